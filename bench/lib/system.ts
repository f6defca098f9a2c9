import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startNatsServer, waitFor, type NatsServer } from '@errand/testing';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export type ServiceName = 'intake' | 'scheduler' | 'worker' | 'notifier';

/**
 * Node flags a service runs with in production (docker-compose.yml, its
 * package's `start`): the scheduler's and the intake's old generation is capped at 1 GiB, which
 * also makes V8 let its heap grow 1.6x between full collections instead of 4x.
 */
const NODE_FLAGS: Partial<Record<ServiceName, string[]>> = { scheduler: ['--max-old-space-size=1024'], intake: ['--max-old-space-size=1024'] };

/** One Errand service as a child process, like test/harness.ts, optionally with --cpu-prof. */
/** Every service process still running: a bench that ends early (an error, Ctrl-C, a `timeout`) leaves none behind. */
const live = new Set<ChildProcess>();
let guarded = false;
function guardExit(): void {
  if (guarded) return;
  guarded = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const c of live) c.kill('SIGKILL');
      process.exit(130);
    });
  }
}

export class Service {
  readonly child: ChildProcess;
  output = '';
  constructor(
    readonly name: ServiceName,
    env: NodeJS.ProcessEnv,
    cpuProfDir?: string,
    fromDist = false,
  ) {
    // one folder per service: the main thread and tsx's loader thread each write a profile
    const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(cpuProfDir, name)] : [];
    // from dist/ (after `pnpm build`) it runs as production does, without tsx's loader
    const main = fromDist ? [join(ROOT, 'services', name, 'dist', 'main.js')] : ['--conditions=development', '--import', 'tsx', join(ROOT, 'services', name, 'src', 'main.ts')];
    // BENCH_NODE_FLAGS: more flags for every service's node (e.g. --trace-gc)
    const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    this.child = spawn(process.execPath, [...(NODE_FLAGS[name] ?? []), ...extra, ...prof, ...main], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    guardExit();
    const child = this.child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-200_000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d.toString()}`);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** VmHWM / VmRSS of the process in MiB (Linux). */
  memory(): { peakMiB: number; rssMiB: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 };
  }

  /** CPU seconds (user + system) the process used so far. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }
}

/** CPU seconds (user + system) of a process, from /proc (Linux); NaN when unknown. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Processes whose command line mentions `needle` (e.g. the embedded history store's process, `pglite-child`). */
export function pidsOf(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** The pid of the nats-server we started on `port` (startNatsServer does not expose it). */
export function natsServerPid(port: number): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('nats-server') && cmd.includes(String(port))) return Number(d);
    } catch {
      // gone
    }
  }
  return 0;
}

/** A fresh nats-server plus some Errand services, all stopped by `stop()`. */
export class BenchSystem {
  readonly services: Service[] = [];
  private constructor(
    readonly nats: NatsServer,
    readonly port: number,
    readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cpuProfDir?: string,
    private readonly fromDist = false,
  ) {}

  static async start(opts: { services: ServiceName[]; env?: Record<string, string>; cpuProfDir?: string; fromDist?: boolean }): Promise<BenchSystem> {
    const nats = await startNatsServer();
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'errand-bench-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NATS_URL: nats.url,
      PORT: String(port),
      ERRAND_DATA_DIR: dataDir,
      OTEL_SDK_DISABLED: 'true',
      LOG_LEVEL: 'warn',
      ...opts.env,
      // ERRAND_* settings in the bench's own environment reach the services (and win), but for
      // the data folder: the bench's is its own
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ERRAND_') && k !== 'ERRAND_DATA_DIR')),
    };
    const sys = new BenchSystem(nats, port, dataDir, env, opts.cpuProfDir, opts.fromDist);
    try {
      for (const name of opts.services) sys.add(name);
      if (opts.services.includes('intake')) await sys.intakeReady();
    } catch (err) {
      const logs = sys.services.map((s) => `--- ${s.name}\n${s.output.slice(-3000)}`).join('\n');
      await sys.stop();
      throw new Error(`${(err as Error).message}\n${logs}`);
    }
    return sys;
  }

  add(name: ServiceName, env: Record<string, string> = {}): Service {
    const s = new Service(name, { ...this.env, ...env }, this.cpuProfDir, this.fromDist);
    this.services.push(s);
    return s;
  }

  get(name: ServiceName): Service {
    const s = this.services.find((x) => x.name === name);
    if (!s) throw new Error(`no ${name} running`);
    return s;
  }

  async intakeReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        for (const s of this.services) if (!s.alive) throw new Error(`${s.name} exited: ${s.output.slice(-2000)}`);
        const res = await fetch(`http://127.0.0.1:${this.port}/readyz`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs, intervalMs: 100, what: 'the intake to be ready' },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    await this.nats.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
