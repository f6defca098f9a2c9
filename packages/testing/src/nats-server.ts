import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { waitFor } from './wait.ts';

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** kill -9 the server (the store stays) */
  kill(): Promise<void>;
  /** start it again on the same port and store */
  restart(): Promise<void>;
  /** stop it and remove its store */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 500, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** The server sends its INFO line (before any TLS or credentials): it listens. */
async function greets(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('data', (d: Buffer) => done(d.toString().startsWith('INFO')));
    sock.once('error', () => done(false));
  });
}

export interface StartOptions {
  bin?: string;
  /**
   * A server configuration (its text; `$STORE` stands for the store folder):
   * users, permissions, TLS. Port, address and store still come from here.
   * With it, readiness is the server's greeting, as a client without
   * credentials may be refused.
   */
  config?: string;
}

/**
 * Start `nats-server -js` on a free port with a temporary store, and wait
 * until it answers. Every test suite gets its own server: no shared state.
 */
export async function startNatsServer(opts: StartOptions = {}): Promise<NatsServer> {
  const bin = opts.bin ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'errand-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  if (opts.config !== undefined) {
    const file = join(storeDir, 'server.conf');
    writeFileSync(file, opts.config.replaceAll('$STORE', storeDir), { mode: 0o600 });
    args.unshift('-c', file);
  }
  const ready = () => (opts.config !== undefined ? greets(port) : answers(url));
  const launch = async () => {
    child = spawn(bin, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // a test process that dies without stopping its server does not leave it behind
    const orphan = child;
    const reap = () => orphan.kill('SIGKILL');
    process.once('exit', reap);
    orphan.once('exit', () => process.removeListener('exit', reap));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${stderr}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitFor(() => ready(), { timeoutMs: 10_000, what: `nats-server on ${url}` }), exited]);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await launch();
  return {
    url,
    port,
    storeDir,
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
