#!/usr/bin/env node
// Make a machine with only Node 20 ready to run Errand: pnpm, the workspace's
// dependencies, and nats-server. Plain Node, no dependencies, idempotent, and
// quick (no child process at all) when everything is already there.
//
//   node scripts/bootstrap.mjs          (also run by `npm start` and `npm test`)
//
// Knobs: ERRAND_SKIP_NATS_INSTALL=1 skips installing nats-server (when NATS
// runs elsewhere); NATS_SERVER_BIN names a nats-server binary to use.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const STAMP = '.errand-bootstrap';
const say = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

export class BootstrapError extends Error {
  name = 'BootstrapError';
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(cmd, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(cmd, args, opts = {}) {
  say(`$ ${[cmd, ...args].join(' ')}`);
  // stdin is never inherited: nothing here may wait for an answer in CI.
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT, ...opts });
  if (r.error) return { ok: false, why: r.error.message };
  return { ok: r.status === 0, why: r.status === null ? `killed by ${r.signal}` : `exit code ${r.status}` };
}

/**
 * pnpm as a command line: `['pnpm']` when it is on PATH (installing it with
 * npm when missing), else `['npx', '-y', 'pnpm@10']`.
 */
function ensurePnpm() {
  if (which('pnpm')) return ['pnpm'];
  say('pnpm is missing: installing pnpm@10 with npm');
  const npm = which('npm') ?? 'npm';
  if (run(npm, ['install', '-g', 'pnpm@10']).ok) {
    if (which('pnpm')) return ['pnpm'];
    // npm's global bin folder may not be on PATH: add it for our children.
    const prefix = spawnSync(npm, ['prefix', '-g'], { encoding: 'utf8' }).stdout?.trim();
    const bin = prefix ? join(prefix, 'bin') : undefined;
    if (bin && existsSync(join(bin, 'pnpm'))) {
      process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
      return ['pnpm'];
    }
  }
  say('could not install pnpm globally: falling back to `npx -y pnpm@10`');
  const npx = which('npx') ?? 'npx';
  const probe = spawnSync(npx, ['-y', 'pnpm@10', '--version'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (probe.status !== 0) throw new BootstrapError('pnpm is missing and neither `npm install -g pnpm@10` nor `npx -y pnpm@10` worked');
  return [npx, '-y', 'pnpm@10'];
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** True when node_modules is missing or older than the lockfile. */
export function dependenciesStale(root = ROOT) {
  const lock = mtime(join(root, 'pnpm-lock.yaml'));
  // pnpm rewrites node_modules/.modules.yaml on every install that changes something.
  // Our stamp covers an install that found nothing to change (and so left .modules.yaml alone).
  const times = ['.modules.yaml', '.pnpm', STAMP].map((f) => mtime(join(root, 'node_modules', f)));
  if (times[0] === undefined && times[1] === undefined) return true;
  const installed = Math.max(...times.map((t) => t ?? 0));
  return lock !== undefined && lock > installed;
}

function ensureDependencies(pnpm) {
  if (!dependenciesStale()) return;
  say('installing dependencies (node_modules is missing or older than pnpm-lock.yaml)');
  const [cmd, ...pre] = pnpm;
  // confirmModulesPurge=false: never ask before rebuilding node_modules (CI has no stdin).
  const r = run(cmd, [...pre, 'install', '--frozen-lockfile', '--config.confirmModulesPurge=false'], {
    env: { ...process.env, CI: process.env.CI ?? 'true' },
  });
  if (!r.ok) throw new BootstrapError(`pnpm install --frozen-lockfile failed (${r.why})`);
  writeFileSync(join(ROOT, 'node_modules', STAMP), `${new Date().toISOString()}\n`);
}

/**
 * Install a Debian package with apt-get when its program is not on PATH (as
 * root, or through sudo). Debian puts some programs in /usr/sbin, which a
 * normal user's PATH may lack: it is added then.
 */
export function ensureAptTool(program, pkg = program) {
  if (which(program)) return;
  if (existsSync(`/usr/sbin/${program}`)) {
    process.env.PATH = `/usr/sbin${delimiter}${process.env.PATH ?? ''}`;
    return;
  }
  say(`${program} is missing: installing ${pkg} with apt-get`);
  if (!which('apt-get')) {
    throw new BootstrapError(`${program} is not on PATH and apt-get is not available: install ${pkg} and try again`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let prefix = [];
  if (!isRoot) {
    if (!which('sudo')) {
      throw new BootstrapError(`${program} is missing and this is not root (and sudo is not available): run \`apt-get update && apt-get install -y ${pkg}\` as root`);
    }
    // -n: never prompt for a password unless a person sits at a terminal.
    prefix = process.stdin.isTTY && !process.env.CI ? ['sudo'] : ['sudo', '-n'];
  }
  const [cmd, ...pre] = [...prefix, 'apt-get'];
  const step = (args) => {
    const r = run(cmd, [...pre, ...args], { env });
    if (!r.ok) {
      throw new BootstrapError(`\`${[cmd, ...pre, ...args].join(' ')}\` failed (${r.why}): install ${pkg} as root (apt-get install -y ${pkg}) and try again`);
    }
  };
  step(['update']);
  step(['install', '-y', '--no-install-recommends', pkg]);
  if (!which(program) && existsSync(`/usr/sbin/${program}`)) process.env.PATH = `/usr/sbin${delimiter}${process.env.PATH ?? ''}`;
  if (!which(program)) throw new BootstrapError(`apt-get installed ${pkg} but ${program} is not on PATH`);
}

function ensureNatsServer() {
  if (process.env.ERRAND_SKIP_NATS_INSTALL === '1') return;
  const bin = process.env.NATS_SERVER_BIN;
  if (bin && (existsSync(bin) || which(bin))) return;
  ensureAptTool('nats-server');
}

/** What only the tests need: Chromium for the dashboard's browser test, Prometheus for the /metrics test. */
export function ensureTestTools() {
  ensureAptTool('chromium');
  ensureAptTool('prometheus');
}

/**
 * Ensure pnpm, dependencies and nats-server. Returns the pnpm command line
 * (`['pnpm']` or an npx fallback) for the caller to run pnpm scripts with.
 */
export function bootstrap() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new BootstrapError(`Node ${process.versions.node} is too old: Errand needs Node 20 or newer`);
  const pnpm = ensurePnpm();
  ensureDependencies(pnpm);
  ensureNatsServer();
  return { pnpm };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const started = Date.now();
    bootstrap();
    say(`ready (${Date.now() - started} ms)`);
  } catch (err) {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
