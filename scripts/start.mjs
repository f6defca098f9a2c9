#!/usr/bin/env node
// `npm start` / `pnpm start`: run the whole of Errand in the foreground.
//
// 1. bootstrap (pnpm, dependencies, nats-server);
// 2. find NATS with JetStream at NATS_URL, or start a local `nats-server -js`
//    (store in .data/nats) when nothing answers there;
// 3. run intake, scheduler, ERRAND_WORKERS workers (default 1) and notifier as
//    child processes in this process group, their JSON log lines shortened and
//    prefixed with the service name;
// 4. SIGINT / SIGTERM stop them all (services first, then our nats-server),
//    waiting for each to exit; a second signal kills at once.
//
// A service that dies unexpectedly is restarted with exponential backoff
// (1 s doubling to 30 s, reset after 60 s of good running), like the
// `restart: unless-stopped` of docker-compose.yml: the services are built to
// lose a process (durable consumers, leases, a standby scheduler), and a dev
// run should stay up while one of them crashes. A service that crashes 5 times
// without ever staying up 30 s is broken rather than unlucky (bad config, a
// syntax error): then everything stops and we exit 1, instead of looping.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bootstrap, ROOT, which } from './bootstrap.mjs';
import { formatLine, natsLine, paint } from './lib/logfmt.mjs';

const env = process.env;
const NATS_URL = env.NATS_URL || 'nats://127.0.0.1:4222';
const PORT = env.PORT || '8080';
const WORKERS = Math.max(0, Number.parseInt(env.ERRAND_WORKERS ?? '1', 10) || 0);
const STOP_GRACE_MS = 20_000;
const color = process.stdout.isTTY && !env.NO_COLOR;

const say = (msg) => process.stdout.write(`${paint('errand    ', 'bold', color)} ${msg}\n`);
const fail = (msg) => {
  process.stderr.write(`${paint('errand    ', 'bold', color)} ${paint('error', 'red', color)} ${msg}\n`);
};

// ---------- NATS ----------

/** `nats://user:pw@host:port` → {host, port, local}. */
function parseNatsUrl(u) {
  const url = new URL(u.includes('://') ? u : `nats://${u}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(url.port || 4222), local: ['127.0.0.1', 'localhost', '::1', '0.0.0.0'].includes(host) };
}

/**
 * 'jetstream' | 'no-jetstream' | 'none' (nothing answers) | 'error' (answers,
 * but not usefully: auth, TLS, not NATS).
 */
async function probeNats(url) {
  const { connect } = createRequire(join(ROOT, 'packages/client/package.json'))('@nats-io/transport-node');
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 1_500, reconnect: false, name: 'errand-start-probe' });
  } catch (err) {
    const code = err?.code ?? err?.cause?.code ?? '';
    const text = `${code} ${err?.message ?? ''}`;
    if (/ECONNREFUSED|CONNECTION_REFUSED|TIMEOUT|ENOTFOUND|EHOSTUNREACH/i.test(text)) return { state: 'none' };
    // a server that wants credentials: the services bring theirs (NATS_USER, NATS_NKEY, ...)
    if (err?.name === 'AuthorizationError') return { state: 'auth' };
    return { state: 'error', why: err?.message ?? String(err) };
  }
  try {
    const reply = await nc.request('$JS.API.INFO', '', { timeout: 2_000 });
    const info = reply.json();
    if (info?.error) return { state: 'no-jetstream', why: info.error.description ?? JSON.stringify(info.error), version: nc.info?.version };
    return { state: 'jetstream', version: nc.info?.version };
  } catch (err) {
    return { state: 'no-jetstream', why: err?.message ?? String(err), version: nc.info?.version };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startNatsServer(host, port) {
  const bin = env.NATS_SERVER_BIN || which('nats-server') || (which('nats-server', '/usr/sbin:/usr/local/sbin') ?? 'nats-server');
  const storeDir = join(ROOT, '.data', 'nats');
  mkdirSync(storeDir, { recursive: true });
  const listen = host === 'localhost' || host === '0.0.0.0' ? '127.0.0.1' : host;
  const args = ['-js', '-a', listen, '-p', String(port), '-sd', storeDir];
  say(`no NATS answers at ${NATS_URL}: starting ${bin} ${args.join(' ')}`);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  const proc = { name: 'nats', child, exited: new Promise((r) => child.once('exit', (code, sig) => r({ code, sig }))) };
  child.once('error', (err) => fail(`nats-server: ${err.message}`));
  pipeLines(child.stdout, (l) => natsLine(l, color));
  pipeLines(child.stderr, (l) => natsLine(l, color));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const p = await probeNats(NATS_URL);
    if (p.state === 'jetstream') return proc;
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`nats-server did not come up at ${NATS_URL} (see its output above)`);
}

async function ensureNats() {
  const urls = NATS_URL.split(',').map((s) => s.trim()).filter(Boolean);
  for (const url of urls) {
    const p = await probeNats(url);
    if (p.state === 'jetstream') {
      say(`using NATS ${p.version ?? ''} with JetStream at ${url}`);
      return undefined;
    }
    if (p.state === 'auth') {
      say(`using NATS at ${url.replace(/\/\/[^@/]*@/, '//')}, which asks for credentials: the services use theirs`);
      return undefined;
    }
    if (p.state === 'no-jetstream') {
      throw new Error(`a NATS server (${p.version ?? 'unknown version'}) answers at ${url} but JetStream is not available there (${p.why}). Errand needs JetStream: run it with -js, or point NATS_URL elsewhere`);
    }
    if (p.state === 'error') throw new Error(`something answers at ${url}, but not as a usable NATS server: ${p.why}`);
  }
  const first = parseNatsUrl(urls[0] ?? NATS_URL);
  if (!first.local) {
    throw new Error(`no NATS answers at ${NATS_URL}; a local nats-server is started only for a loopback NATS_URL`);
  }
  return await startNatsServer(first.host, first.port);
}

// ---------- services ----------

function pipeLines(stream, onLine) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (buf) onLine(buf);
    buf = '';
  });
}

let stopping = false;
const running = new Map(); // name -> proc

// From the TypeScript sources (development): `--conditions=development` makes every
// @errand/* import resolve to its src/index.ts, so nothing needs building first.
// Production runs the build instead: node services/<name>/dist/main.js (Dockerfile).
function spawnService(svc) {
  const child = spawn(process.execPath, [...(svc.node ?? []), '--conditions=development', '--import', 'tsx', `services/${svc.dir}/src/main.ts`], {
    cwd: ROOT,
    env: { ...env, NATS_URL, PORT, ...svc.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { name: svc.name, child, startedAt: Date.now() };
  proc.exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, sig })));
  child.once('error', (err) => fail(`${svc.name}: ${err.message}`));
  const out = (l) => process.stdout.write(formatLine(svc.name, l, color) + '\n');
  pipeLines(child.stdout, out);
  pipeLines(child.stderr, out);
  running.set(svc.name, proc);
  void proc.exited.then((how) => onServiceExit(svc, proc, how));
  return proc;
}

function onServiceExit(svc, proc, { code, sig }) {
  if (running.get(svc.name) === proc) running.delete(svc.name);
  if (stopping) return;
  const upMs = Date.now() - proc.startedAt;
  if (upMs >= 60_000) svc.backoffMs = 1_000;
  svc.quickCrashes = upMs < 30_000 ? svc.quickCrashes + 1 : 0;
  const how = sig ? `signal ${sig}` : `exit code ${code}`;
  if (svc.quickCrashes >= 5) {
    fail(`${svc.name} died (${how}) ${svc.quickCrashes} times in a row within 30 s of starting: giving up`);
    void shutdown(1);
    return;
  }
  fail(`${svc.name} died unexpectedly (${how}) after ${Math.round(upMs / 1000)} s; restarting in ${svc.backoffMs / 1000} s`);
  const delay = svc.backoffMs;
  svc.backoffMs = Math.min(svc.backoffMs * 2, 30_000);
  svc.timer = setTimeout(() => {
    svc.timer = undefined;
    if (!stopping) spawnService(svc);
  }, delay);
}

async function stopProc(proc, signal = 'SIGTERM') {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => {
    fail(`${proc.name} did not stop within ${STOP_GRACE_MS / 1000} s: killing it`);
    child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await proc.exited;
  clearTimeout(timer);
}

let nats;
let shuttingDown;
function shutdown(code) {
  shuttingDown ??= (async () => {
    stopping = true;
    for (const svc of SERVICES) if (svc.timer) clearTimeout(svc.timer);
    say('stopping the services...');
    await Promise.all([...running.values()].map((p) => stopProc(p)));
    if (nats) {
      say('stopping nats-server...');
      await stopProc(nats);
    }
    say('stopped');
    process.exitCode = code;
  })();
  return shuttingDown;
}

function onSignal(sig) {
  if (shuttingDown) {
    fail(`${sig} again: killing everything now`);
    for (const p of [...running.values(), nats].filter(Boolean)) p.child.kill('SIGKILL');
    process.exit(130);
  }
  void shutdown(sig === 'SIGINT' ? 130 : 143);
}

const SERVICES = [
  // as in docker-compose.yml: an old generation of 1 GiB, which V8 grows 1.6x between full collections (not 4x)
  { name: 'intake', dir: 'intake', node: ['--max-old-space-size=1024'] },
  { name: 'scheduler', dir: 'scheduler', node: ['--max-old-space-size=1024'] },
  ...Array.from({ length: WORKERS }, (_, i) => ({ name: WORKERS > 1 ? `worker-${i + 1}` : 'worker', dir: 'worker' })),
  { name: 'notifier', dir: 'notifier' },
].map((s) => ({ env: {}, backoffMs: 1_000, quickCrashes: 0, ...s }));

async function announceWhenReady() {
  const base = `http://127.0.0.1:${PORT}`;
  const deadline = Date.now() + 60_000;
  let ready = false;
  while (!stopping && !ready && Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) });
      ready = r.ok;
    } catch {
      // not yet
    }
    if (!ready) await sleep(500);
  }
  if (stopping) return;
  if (!ready) fail(`the intake is not ready after 60 s (${base}/readyz): see its log above`);
  const auth = env.ERRAND_API_KEYS ? ` -H "Authorization: Bearer $ERRAND_API_KEY"` : '';
  const lines = [
    `API listening on ${paint(base, 'bold', color)} (OpenAPI docs at ${base}/docs)`,
    `try it: curl -s -X POST ${base}/v1/tasks${auth} -H 'content-type: application/json' -d '{"type":"demo.sleep","params":{"durationMs":5000}}'`,
    `    or: ${PORT === '8080' ? '' : `ERRAND_URL=${base} `}pnpm errand submit demo.sleep --params '{"durationMs":5000}' --watch`,
    `Ctrl-C stops everything.`,
  ];
  for (const l of lines) say(l);
}

async function main() {
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  try {
    bootstrap();
    nats = await ensureNats();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
    return;
  }
  if (stopping) {
    if (nats) await stopProc(nats);
    return;
  }
  if (nats) {
    void nats.exited.then(({ code, sig }) => {
      if (stopping) return;
      fail(`nats-server exited (${sig ?? `exit code ${code}`}): stopping`);
      nats = undefined;
      void shutdown(1);
    });
  }
  say(`starting intake, scheduler, ${WORKERS} worker${WORKERS === 1 ? '' : 's'} and notifier`);
  for (const svc of SERVICES) {
    if (existsSync(join(ROOT, 'services', svc.dir, 'src', 'main.ts'))) spawnService(svc);
    else fail(`services/${svc.dir}/src/main.ts does not exist: ${svc.name} is not started`);
  }
  await announceWhenReady();
}

await main();
