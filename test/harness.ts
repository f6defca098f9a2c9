import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freePort, startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { natsConnectOptions, natsSettings } from '@errand/config';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

export type ServiceName = 'intake' | 'scheduler' | 'worker' | 'notifier';

/** One service running as a real child process. */
export class ServiceProcess {
  child: ChildProcess | undefined;
  output = '';
  /** the test stopped or killed it: its exit is no news */
  expectedExit = false;
  constructor(
    readonly name: ServiceName,
    readonly label: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  start(): void {
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', join(ROOT, 'services', this.name, 'src', 'main.ts')], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > 4_000_000) this.output = this.output.slice(-2_000_000);
      if (process.env.ERRAND_E2E_VERBOSE) process.stderr.write(`[${this.label}] ${d.toString()}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // a test run that dies leaves no service behind
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    this.child = child;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (sig === 'SIGKILL' || sig === 'SIGTERM' || sig === 'SIGINT') this.expectedExit = true;
    this.child?.kill(sig);
  }

  /** Send a signal and wait for the process to end. */
  async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    this.expectedExit = true;
    if (!c || !this.alive) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }

  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => pattern.test(this.output), { timeoutMs, what: `${this.label} to log ${pattern}` });
  }
}

export interface SystemOptions {
  env?: Record<string, string>;
  /** variables of one service only (e.g. its own NATS credentials) */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  workers?: number;
  /** start these services (default all four) */
  services?: ServiceName[];
  /** a nats-server configuration (users, permissions, TLS): see `startNatsServer` */
  natsConfig?: string;
  /** the NATS variables of the harness's own connection (`sys.nc`), e.g. an admin's NATS_NKEY */
  natsEnv?: Record<string, string>;
  /** wait for the intake to be ready (default true) */
  waitReady?: boolean;
  /** NATS servers already running (e.g. a test cluster's URLs): no server of its own is started */
  natsUrl?: string;
}

/** nats-server + the four services as real processes, on free ports and a temporary data folder. */
export class System {
  /** the harness's own nats-server (unset when given `natsUrl`) */
  nats!: NatsServer;
  natsUrl = '';
  nc!: NatsConnection;
  port = 0;
  dataDir = '';
  readonly procs: ServiceProcess[] = [];
  private baseEnv: NodeJS.ProcessEnv = {};
  private serviceEnv: SystemOptions['serviceEnv'] = {};

  static async start(opts: SystemOptions = {}): Promise<System> {
    const s = new System();
    if (opts.natsUrl) s.natsUrl = opts.natsUrl;
    else {
      s.nats = await startNatsServer(opts.natsConfig !== undefined ? { config: opts.natsConfig } : {});
      s.natsUrl = s.nats.url;
    }
    s.serviceEnv = opts.serviceEnv ?? {};
    s.port = await freePort();
    s.dataDir = mkdtempSync(join(tmpdir(), 'errand-e2e-'));
    s.baseEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NATS_URL: s.natsUrl,
      PORT: String(s.port),
      ERRAND_DATA_DIR: s.dataDir,
      ERRAND_DECISION_WAIT_MS: '3000',
      OTEL_SDK_DISABLED: 'true',
      LOG_LEVEL: 'info',
      ...opts.env,
    };
    const natsOpts = natsConnectOptions(natsSettings({ ...opts.natsEnv, NATS_URL: s.natsUrl }));
    s.nc = await connect({ ...natsOpts, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const services = opts.services ?? ['scheduler', 'worker', 'notifier', 'intake'];
    for (const name of services) {
      const n = name === 'worker' ? (opts.workers ?? 1) : 1;
      for (let i = 0; i < n; i++) s.add(name);
    }
    if (opts.waitReady !== false) await s.ready();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Start one more process of a service. */
  add(name: ServiceName, env: Record<string, string> = {}): ServiceProcess {
    const count = this.procs.filter((p) => p.name === name).length;
    const p = new ServiceProcess(name, `${name}${count ? `-${count + 1}` : ''}`, { ...this.baseEnv, ...this.serviceEnv?.[name], ...env });
    p.start();
    this.procs.push(p);
    return p;
  }

  get(name: ServiceName, index = 0): ServiceProcess {
    const p = this.procs.filter((x) => x.name === name)[index];
    if (!p) throw new Error(`no ${name} #${index}`);
    return p;
  }

  /** Wait until the intake answers /readyz with 200. */
  async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        const res = await fetch(`${this.url}/readyz`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs, intervalMs: 100, what: 'the intake to be ready' },
    );
  }

  logs(): string {
    return this.procs.map((p) => p.output).join('\n');
  }

  /** Processes that ended without the test asking (a crash), with the end of their output. */
  crashed(): string[] {
    return this.procs
      .filter((p) => !p.alive && !p.expectedExit)
      .map((p) => `${p.label} exited (${p.child?.exitCode ?? p.child?.signalCode}):\n${p.output.slice(-4000)}`);
  }

  async stop(): Promise<void> {
    // a service that crashed during the suite says why, in the test output
    for (const c of this.crashed()) console.error(`[harness] ${c}`);
    await Promise.all(this.procs.map((p) => p.stop('SIGTERM')));
    await this.nc?.close().catch(() => undefined);
    await this.nats?.stop();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** JSON over HTTP against the intake. */
export async function http(
  sys: System,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sys.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** Wait until the task's view (GET /v1/tasks/:id) is in one of `states`; returns the view. */
export async function waitState(sys: System, id: string, states: string[], timeoutMs = 30_000): Promise<any> {
  return await waitFor(
    async () => {
      const r = await http(sys, 'GET', `/v1/tasks/${id}`);
      return r.status === 200 && states.includes(r.body.state) ? r.body : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `task ${id} to reach ${states.join('/')}` },
  );
}
