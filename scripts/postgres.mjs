// The PostgreSQL server the tests use (they make a database of their own on it):
//  1. PGTEST_URL, when set;
//  2. else the server at 127.0.0.1:5432, when user `postgres` gets in without a password;
//  3. else a private one, as the tests do with nats-server: Debian's `postgresql`
//     installed with apt-get when missing, a throw-away cluster (trust auth,
//     fsync off) on a free port, stopped and removed at the end.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAptTool, ROOT } from './bootstrap.mjs';

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';
const say = (msg) => process.stdout.write(`[postgres] ${msg}\n`);

/** Whether `url` answers `SELECT 1` (with node-postgres, from the testing package's dependencies). */
function answers(url) {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import pg from 'pg'; const c = new pg.Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 }); await c.connect(); await c.query('SELECT 1'); await c.end();",
      url,
    ],
    { cwd: join(ROOT, 'packages', 'testing'), stdio: 'ignore', timeout: 10_000 },
  );
  return r.status === 0;
}

function binDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

function freePort() {
  const r = spawnSync(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})"], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/**
 * A PostgreSQL server for the tests: `{ url, stop }`. `process.env.PGTEST_URL`
 * is set to its maintenance database for the test processes.
 */
export function ensureTestPostgres() {
  if (process.env.PGTEST_URL) return { url: process.env.PGTEST_URL, stop() {} };
  if (process.env.ERRAND_TEST_PRIVATE_PG !== '1' && answers(LOCAL)) return { url: LOCAL, stop() {} };
  let bin = binDir();
  if (!bin) {
    ensureAptTool('pg_ctlcluster', 'postgresql');
    bin = binDir();
    if (!bin) throw new Error('apt-get installed postgresql but no initdb was found under /usr/lib/postgresql');
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user the package made
  const asOwner = (cmd, args) => (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const dir = mkdtempSync(join(tmpdir(), 'errand-pg-'));
  if (isRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(id.stdout), Number(gid.stdout));
  }
  const port = freePort();
  const exec = (cmd, args) => {
    const [c, a] = asOwner(join(bin, cmd), args);
    const r = spawnSync(c, a, { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout || r.error}`);
  };
  say(`starting a private PostgreSQL on 127.0.0.1:${port} (${dir})`);
  exec('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  exec('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  process.env.PGTEST_URL = url;
  return {
    url,
    stop() {
      try {
        exec('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      } catch (err) {
        say(`stopping it failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
