import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort } from './nats-server.ts';
import { waitFor } from './wait.ts';

/** One node of a test cluster. */
export interface ClusterNode {
  /** its `server_name` (`n1`, `n2`, …): what stream info's `cluster.leader` names */
  name: string;
  url: string;
  port: number;
  storeDir: string;
  readonly alive: boolean;
  /** kill -9 (the store stays) */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the node hangs without closing its sockets */
  pause(): void;
  resume(): void;
  /** start it again on the same ports and store, and wait until it answers */
  restart(): Promise<void>;
}

export interface NatsCluster {
  nodes: ClusterNode[];
  /** every node's client URL, comma-separated (what NATS_URL takes) */
  url: string;
  node(name: string): ClusterNode;
  /** stop every node and remove the stores */
  stop(): Promise<void>;
}

/** JetStream answers on this node: the cluster has a meta leader and this node knows it. */
async function jetStreamReady(url: string): Promise<boolean> {
  const nc = await connect({ servers: url, timeout: 1_000, reconnect: false }).catch(() => undefined);
  if (!nc) return false;
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    await jsm.getAccountInfo();
    return true;
  } catch {
    return false;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/**
 * Start a JetStream cluster of `size` real `nats-server`s on loopback: free
 * client and route ports, a temporary store and a `server_name` each. Resolves
 * once every node serves the JetStream API.
 */
export async function startNatsCluster(opts: { size?: number; bin?: string } = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const bin = opts.bin ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const root = mkdtempSync(join(tmpdir(), 'errand-cluster-'));
  const ports: { client: number; route: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), route: await freePort() });
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);
  const nodes = ports.map((p, i) => makeNode(bin, root, `n${i + 1}`, p.client, p.route, routes));
  await Promise.all(nodes.map((n) => n.restart()));
  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no cluster node named ${name}`);
      return n;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function makeNode(bin: string, root: string, name: string, port: number, routePort: number, routes: string[]): ClusterNode {
  const storeDir = join(root, name);
  const conf = join(root, `${name}.conf`);
  writeFileSync(
    conf,
    [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${port}`,
      `jetstream { store_dir: "${storeDir}" }`,
      `cluster {`,
      `  name: errand-test`,
      `  listen: 127.0.0.1:${routePort}`,
      `  routes: [${routes.join(', ')}]`,
      `}`,
    ].join('\n'),
  );
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const alive = () => !!child && child.exitCode === null && child.signalCode === null;
  return {
    name,
    url,
    port,
    storeDir,
    get alive() {
      return alive();
    },
    async kill() {
      const c = child;
      if (!c || !alive()) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await gone;
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async restart() {
      if (alive()) return;
      const c = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      const reap = () => c.kill('SIGKILL');
      process.once('exit', reap);
      c.once('exit', () => process.removeListener('exit', reap));
      let stderr = '';
      c.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`nats-server ${name} exited (${code}): ${stderr}`))));
      exited.catch(() => undefined);
      await Promise.race([waitFor(() => jetStreamReady(url), { timeoutMs: 30_000, intervalMs: 200, what: `JetStream on cluster node ${name}` }), exited]);
    },
  };
}
