import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { NatsConnection } from '@nats-io/transport-node';
import { makeEvent, newTaskId } from '@errand/contracts';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { loadConfig, type Config } from '@errand/config';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { buildNotifier, type Notifier } from './app.ts';
import { partitionOf } from './domain/partition.ts';

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
let config: Config;
let receiver: FastifyInstance;
let url: string;
let dataDir: string;
const received: { taskId: string; id: string }[] = [];
const notifiers: Notifier[] = [];

function notifier(id: string): Promise<Notifier> {
  const n = buildNotifier({ config, nc, log, notifierId: id, logger: createLogger('notifier', {}, 'error'), settings: { partitions: 4, schedule: [50] } });
  notifiers.push(n);
  return n.start().then(() => n);
}

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'partitions-test' });
  await provision(nc, { leaseMs: 2_000 });
  log = new EventLog(nc);
  dataDir = mkdtempSync(join(tmpdir(), 'errand-partitions-'));
  config = loadConfig({ NATS_URL: server.url, ERRAND_WEBHOOK_ALLOW: '127.0.0.1', ERRAND_SECRET_KEY: 'k'.repeat(32), ERRAND_DATA_DIR: dataDir });
  receiver = Fastify();
  receiver.post('/hook', async (req) => {
    const body = req.body as { taskId: string };
    received.push({ taskId: body.taskId, id: String(req.headers['webhook-id']) });
    return { ok: true };
  });
  await receiver.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}/hook`;
});

afterAll(async () => {
  for (const n of notifiers) await n.stop();
  await receiver?.close();
  log?.close();
  await nc?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const SECRET = `whsec_${Buffer.from('a-test-signing-secret-of-32-bytes').toString('base64')}`;

/** A task with one webhook target, completed: its secret stored, then its events written. */
async function completedTask(secrets: { put(ref: string, v: string): Promise<void> }): Promise<string> {
  const task = { taskId: newTaskId(), tenant: 'part' };
  const secretRef = `part.${task.taskId}.0`;
  await secrets.put(secretRef, SECRET);
  await log.append(
    makeEvent('submitted', task, new Date(), {
      user: 'u1',
      taskType: 'demo.noop',
      params: {},
      priority: 5,
      timeoutMs: 60_000,
      progressEveryMs: 10_000,
      deliver: [{ kind: 'webhook', url, secretRef, secretHint: SECRET.slice(-4) }],
    }),
  );
  await log.append(makeEvent('completed', task, new Date(), { attempt: 1, result: 1 }));
  return task.taskId;
}

describe('notifier partitions', () => {
  it('two notifiers share the partitions, each task is delivered once, and one leaving hands its share over', async () => {
    const { SecretBox, SecretStore } = await import('@errand/secrets');
    const secrets = new SecretStore(nc, new SecretBox(config.ERRAND_SECRET_KEY!));
    const a = await notifier('na');
    const b = await notifier('nb');
    await waitFor(() => a.partitions().length === 2 && b.partitions().length === 2, { timeoutMs: 20_000, what: 'two partitions each' });
    expect([...a.partitions(), ...b.partitions()].sort()).toEqual([0, 1, 2, 3]);

    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await completedTask(secrets));
    await waitFor(() => new Set(received.map((r) => r.taskId)).size === 40, { timeoutMs: 20_000, what: '40 deliveries' });
    const held = new Map([...a.partitions().map((p) => [p, 'a'] as const), ...b.partitions().map((p) => [p, 'b'] as const)]);
    expect(new Set(ids.map((id) => held.get(partitionOf(id, 4))))).toEqual(new Set(['a', 'b']));

    await notifiers.shift()!.stop();
    await waitFor(() => b.partitions().length === 4, { timeoutMs: 20_000, what: 'the remaining notifier to hold every partition' });
    const more: string[] = [];
    for (let i = 0; i < 10; i++) more.push(await completedTask(secrets));
    await waitFor(() => more.every((id) => received.some((r) => r.taskId === id)), { timeoutMs: 20_000, what: '10 more deliveries' });
    // once each, across the hand-over
    expect(received).toHaveLength(50);
  });
});
