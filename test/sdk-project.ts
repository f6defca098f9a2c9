/**
 * A project outside this repository that uses the packed SDKs as a stranger
 * would: `pnpm pack:sdk` into a temporary folder, `npm install` of the
 * tarballs (third-party dependencies from the npm registry), a plain
 * JavaScript worker and a TypeScript file checked against the installed
 * declarations.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@errand/testing';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** The ~20-line worker of the README's walkthrough, in plain JavaScript (ESM). */
export const WORKER_JS = `import { defineTaskType, startWorker, z } from '@errand/worker';

const summarise = defineTaskType({
  name: 'docs.summarise',
  description: 'Summarise a text: its first words',
  params: z.object({ text: z.string(), words: z.number().int().min(1).default(5) }),
  async run(ctx) {
    ctx.progress(50, 'reading the text');
    const words = ctx.params.text.split(/\\s+/).filter(Boolean);
    return { summary: words.slice(0, ctx.params.words).join(' '), words: words.length };
  },
});

const worker = await startWorker({ types: [summarise] });
console.log(\`worker \${worker.workerId} serves \${worker.types.join(', ')}\`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void worker.stop().then(() => process.exit(0)));
}
`;

/** Uses the declared types: compiles only when they are right (ctx.params typed from the schema). */
const CHECK_TS = `import { defineTaskType, startWorker, TaskError, z, type RunningWorker } from '@errand/worker';
import { ErrandClient } from '@errand/client';

const count = defineTaskType({
  name: 'docs.count',
  params: z.object({ text: z.string() }),
  run: (ctx) => {
    const text: string = ctx.params.text;
    if (!text) throw new TaskError('empty', 'no text', { retryable: false });
    ctx.progress(100);
    return { length: text.length };
  },
});
const worker: RunningWorker = await startWorker({ types: [count], pool: 'default', concurrency: 2 });
const accepted = await new ErrandClient().submit({ type: 'docs.count', params: { text: 'hello' } });
const id: string = accepted.id;
await worker.stop();
export { id };
`;

/** Must NOT compile: params are typed, not \`any\`. */
const WRONG_TS = `import { defineTaskType, z } from '@errand/worker';
export const t = defineTaskType({ name: 'x.y', params: z.object({ n: z.number() }), run: (ctx) => ctx.params.n.toUpperCase() });
`;

const TSCONFIG = (file: string) =>
  JSON.stringify({
    // 'DOM': the MCP SDK's declarations (which @errand/client's `serveMcpStdio` names) use fetch's
    // HeadersInit, as in any project that uses @modelcontextprotocol/sdk; skipLibCheck stays off
    compilerOptions: { target: 'ES2022', lib: ['ES2023', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
    files: [file],
  });

/**
 * Run a command to its end without blocking this thread: a synchronous spawn
 * of the minute-long `pack:sdk` starves vitest's worker RPC, whose 60 s
 * timer then fires as an unhandled "Timeout calling onTaskUpdate" error.
 */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      done({ status: null, out: `${out}${String(err)}` });
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      done({ status, out });
    });
  });
}

export class SdkProject {
  readonly base = mkdtempSync(join(tmpdir(), 'errand-sdk-'));
  readonly packDir = join(this.base, 'tarballs');
  readonly dir = join(this.base, 'project');

  /** Pack the SDKs and install them (with @types/node) into a fresh project. */
  async install(): Promise<string[]> {
    const packed = await run(process.execPath, [join(ROOT, 'scripts', 'pack-sdk.mjs'), this.packDir], ROOT, 300_000);
    if (packed.status !== 0) throw new Error(`pack:sdk failed:\n${packed.out.slice(-4000)}`);
    const tarballs = readdirSync(this.packDir).filter((f) => f.endsWith('.tgz')).map((f) => join(this.packDir, f));
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'package.json'), JSON.stringify({ name: 'my-agent', private: true, type: 'module' }));
    const npm = await run('npm', ['install', '--no-audit', '--no-fund', ...tarballs, '@types/node@20'], this.dir, 300_000);
    if (npm.status !== 0) throw new Error(`npm install failed:\n${npm.out.slice(-4000)}`);
    writeFileSync(join(this.dir, 'worker.mjs'), WORKER_JS);
    writeFileSync(join(this.dir, 'check.ts'), CHECK_TS);
    writeFileSync(join(this.dir, 'wrong.ts'), WRONG_TS);
    return tarballs;
  }

  /** Type-check one file against the installed declarations with the repository's tsc. */
  typecheck(file: 'check.ts' | 'wrong.ts'): Promise<{ status: number | null; out: string }> {
    writeFileSync(join(this.dir, `tsconfig.${file}.json`), TSCONFIG(file));
    return run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${file}.json`], this.dir, 120_000);
  }

  /** Run the installed `errand` binary. */
  errand(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
    return run(join(this.dir, 'node_modules', '.bin', 'errand'), args, this.dir, 30_000, env);
  }

  /** Start the plain-JavaScript worker; resolves once it says it serves its type. */
  async startWorker(natsUrl: string): Promise<WorkerChild> {
    const child = spawn(process.execPath, ['worker.mjs'], { cwd: this.dir, env: { PATH: process.env.PATH, NATS_URL: natsUrl, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new WorkerChild(child);
    await waitFor(() => /serves docs\.summarise/.test(w.output) || child.exitCode !== null, { timeoutMs: 30_000, what: 'the custom worker to start' });
    if (child.exitCode !== null) throw new Error(`the custom worker exited:\n${w.output}`);
    return w;
  }

  remove(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

export class WorkerChild {
  output = '';
  constructor(readonly child: ChildProcess) {
    const keep = (d: Buffer) => (this.output += d.toString());
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
  }

  get workerId(): string {
    return /worker (\S+) serves/.exec(this.output)?.[1] ?? '';
  }

  /** SIGTERM, then wait for it to end (its stop() sends the stopping beat). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const gone = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGTERM');
    return await gone;
  }
}
