import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { BUCKETS, CONSUMERS, STREAMS, decodeJson, kvKeys, makeEvent, newTaskId, type ErrandEvent, type StoredTarget } from '@errand/contracts';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { loadConfig, type Config } from '@errand/config';
import { SecretBox, SecretStore } from '@errand/secrets';
import { buildNotifier, type Notifier } from './app.ts';

const SECRET = `whsec_${Buffer.from('a-test-signing-secret-of-32-bytes').toString('base64')}`;
const quiet = createLogger('notifier', {}, 'error');

interface Hit { name: string; id: string; at: number; body: Record<string, unknown>; verified: boolean }
let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
let config: Config;
let secrets: SecretStore;
let receiver: FastifyInstance;
let base: string;
let dataDir: string;
const hits: Hit[] = [];
/** per receiver name: the statuses (and headers) to answer, in order; then 200 */
const plans = new Map<string, { status: number; headers?: Record<string, string> }[]>();
const notifiers: Notifier[] = [];

function start(id: string, schedule = [50, 100, 200]): Promise<Notifier> {
  const n = buildNotifier({ config, nc, log, notifierId: id, logger: quiet, settings: { schedule, publicUrl: 'http://errand.test' } });
  notifiers.push(n);
  return n.start().then(() => n);
}

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'notifier-test' });
  await provision(nc);
  log = new EventLog(nc);
  dataDir = mkdtempSync(join(tmpdir(), 'errand-notifier-'));
  config = loadConfig({ NATS_URL: server.url, ERRAND_WEBHOOK_ALLOW: '127.0.0.1', ERRAND_SECRET_KEY: 'k'.repeat(32), ERRAND_DATA_DIR: dataDir });
  secrets = new SecretStore(nc, new SecretBox(config.ERRAND_SECRET_KEY!));
  receiver = Fastify();
  receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  receiver.post<{ Params: { name: string } }>('/hook/:name', async (req, reply) => {
    const raw = req.body as string;
    let verified = false;
    try {
      new Webhook(SECRET).verify(raw, req.headers as Record<string, string>);
      verified = true;
    } catch {
      verified = false;
    }
    hits.push({ name: req.params.name, id: String(req.headers['webhook-id']), at: Date.now(), body: JSON.parse(raw), verified });
    const next = plans.get(req.params.name)?.shift() ?? { status: 200 };
    return reply.code(next.status).headers(next.headers ?? {}).send({ ok: next.status < 300 });
  });
  await receiver.listen({ host: '127.0.0.1', port: 0 });
  const addr = receiver.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  await start('n1');
});

afterAll(async () => {
  for (const n of notifiers) await n.stop();
  await receiver?.close();
  log?.close();
  await nc?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type TargetSpec = { kind: 'webhook'; url: string } | { kind: 'nats'; subject: string } | { kind: 'memory' };

/** Write a submitted task with these targets (webhook secrets stored first), dispatched and started. */
async function submit(tenant: string, targets: TargetSpec[], progressEveryMs = 1): Promise<{ taskId: string; tenant: string }> {
  const taskId = newTaskId();
  const task = { taskId, tenant };
  const deliver: StoredTarget[] = [];
  for (const [index, t] of targets.entries()) {
    if (t.kind === 'webhook') {
      const secretRef = SecretStore.ref(tenant, taskId, index);
      await secrets.put(secretRef, SECRET);
      deliver.push({ kind: 'webhook', url: t.url, secretRef, secretHint: SECRET.slice(-4) });
    } else deliver.push(t);
  }
  await log.append(makeEvent('submitted', task, new Date(), { user: 'u1', taskType: 'demo.report', params: {}, priority: 5, timeoutMs: 60_000, progressEveryMs, deliver }));
  await log.append(makeEvent('dispatched', task, new Date(), { attempt: 1, pool: 'default' }));
  await log.append(makeEvent('started', task, new Date(), { attempt: 1, workerId: 'w1' }));
  return task;
}
const progress = (t: { taskId: string; tenant: string }, percent: number) =>
  log.append(makeEvent('progress', t, new Date(), { attempt: 1, percent, etaMs: 120_000 }), { idExtra: percent });
const complete = (t: { taskId: string; tenant: string }) =>
  log.append(makeEvent('completed', t, new Date(), { attempt: 1, result: { summary: 'All good' } }));

async function records(t: { taskId: string; tenant: string }) {
  return (await log.history(t.tenant, t.taskId)).map((s) => s.event).filter((e): e is Extract<ErrandEvent, { type: 'delivered' | 'delivery-failed' }> => e.type === 'delivered' || e.type === 'delivery-failed');
}
const hitsOf = (name: string) => hits.filter((h) => h.name === name);

describe('webhook delivery', () => {
  it('signs, sends progress then the final in order, once each, and records them', async () => {
    const t = await submit('wh1', [{ kind: 'webhook', url: `${base}/hook/a` }]);
    await progress(t, 40);
    await waitFor(() => hitsOf('a').length === 1, { what: 'the progress message' });
    await complete(t);
    await waitFor(async () => (await records(t)).length === 2, { what: 'two delivered records' });
    const got = hitsOf('a');
    expect(got.map((h) => h.body.type)).toEqual(['progress', 'completed']);
    expect(got.every((h) => h.verified)).toBe(true);
    expect(new Set(got.map((h) => h.id)).size).toBe(2);
    expect(got[0]!.body.text).toBe('Your report is 40% complete, about 2 minutes left.');
    expect(got[1]!.body.text).toBe('Your report is ready: All good');
    expect((got[1]!.body.task as { state: string }).state).toBe('completed');
    expect((got[0]!.body.task as { progress: { percent: number } }).progress.percent).toBe(40);
    const recs = await records(t);
    expect(recs.map((r) => [r.type, r.of, r.tries, r.deliveryId])).toEqual([
      ['delivered', 'progress', 1, got[0]!.id],
      ['delivered', 'completed', 1, got[1]!.id],
    ]);
  });

  it('retries a 500 and records one delivered with tries 2', async () => {
    plans.set('b', [{ status: 500 }]);
    const t = await submit('wh2', [{ kind: 'webhook', url: `${base}/hook/b` }]);
    await complete(t);
    await waitFor(async () => (await records(t)).length === 1, { what: 'the record' });
    expect((await records(t)).map((r) => [r.type, r.tries])).toEqual([['delivered', 2]]);
    const got = hitsOf('b');
    expect(got).toHaveLength(2);
    expect(got[0]!.id).toBe(got[1]!.id); // the same webhook-id on every try
  });

  it('honours Retry-After on 429', async () => {
    plans.set('c', [{ status: 429, headers: { 'retry-after': '1' } }]);
    const t = await submit('wh3', [{ kind: 'webhook', url: `${base}/hook/c` }]);
    await complete(t);
    await waitFor(async () => (await records(t)).length === 1, { what: 'the record' });
    const got = hitsOf('c');
    expect(got).toHaveLength(2);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('410: delivery-failed and nothing more to that target for the task', async () => {
    plans.set('d', [{ status: 410 }]);
    const t = await submit('wh4', [{ kind: 'webhook', url: `${base}/hook/d` }, { kind: 'memory' }]);
    await progress(t, 10);
    await waitFor(async () => (await records(t)).length === 1, { what: 'the 410 record' });
    await complete(t);
    await waitFor(async () => (await records(t)).length === 2, { what: 'the memory record' });
    const recs = await records(t);
    expect(recs.map((r) => [r.type, r.target.index, r.of])).toEqual([
      ['delivery-failed', 0, 'progress'],
      ['delivered', 1, 'completed'],
    ]);
    expect(recs[0]!.error).toMatch(/410/);
    expect(hitsOf('d')).toHaveLength(1);
  });

  it('another 4xx: delivery-failed at once, no retry', async () => {
    plans.set('e', [{ status: 404 }]);
    const t = await submit('wh5', [{ kind: 'webhook', url: `${base}/hook/e` }]);
    await complete(t);
    await waitFor(async () => (await records(t)).length === 1, { what: 'the record' });
    expect((await records(t)).map((r) => [r.type, r.tries, r.error])).toEqual([['delivery-failed', 1, 'HTTP 404']]);
    expect(hitsOf('e')).toHaveLength(1);
  });

  it('refuses a host name that is internal (localhost) although 127.0.0.1 is allowed: nothing sent', async () => {
    const url = base.replace('127.0.0.1', 'localhost');
    const t = await submit('wh6', [{ kind: 'webhook', url: `${url}/hook/f` }]);
    await complete(t);
    await waitFor(async () => (await records(t)).length === 1, { what: 'the record' });
    const [r] = await records(t);
    expect(r!.type).toBe('delivery-failed');
    expect(r!.error).toMatch(/refused/);
    expect(hitsOf('f')).toHaveLength(0);
  });
});

describe('nats and memory targets', () => {
  it('publishes to ERRAND_NOTIFY and keeps the final message in memory', async () => {
    const subject = 'errand.notify.nm1.conv-1';
    const t = await submit('nm1', [{ kind: 'nats', subject }, { kind: 'memory' }]);
    await progress(t, 50);
    const jsm = await jetstreamManager(nc);
    await waitFor(() => jsm.direct.getMessage(STREAMS.notify, { last_by_subj: subject }).catch(() => null), { what: 'the progress on ERRAND_NOTIFY' });
    await complete(t);
    await waitFor(async () => (await records(t)).length === 3, { what: 'three records' });
    const m = await jsm.direct.getMessage(STREAMS.notify, { last_by_subj: subject });
    const body = decodeJson(m!.data) as { type: string; text: string; task: { id: string } };
    expect([body.type, body.task.id, body.text]).toEqual(['completed', t.taskId, 'Your report is ready: All good']);
    const kv = await new Kvm(nc).open(BUCKETS.memory);
    const v = decodeJson((await kv.get(kvKeys.memory('nm1', 'u1', t.taskId)))!.value) as Record<string, unknown>;
    expect(v).toMatchObject({ taskId: t.taskId, type: 'demo.report', user: 'u1', state: 'completed', result: { summary: 'All good' }, text: 'Your report is ready: All good' });
  });
});

describe('restarts and replicas', () => {
  it('a restarted notifier that sees every event again sends nothing twice', async () => {
    const t = await submit('rs1', [{ kind: 'webhook', url: `${base}/hook/g` }]);
    await progress(t, 20);
    await waitFor(() => hitsOf('g').length === 1, { what: 'the progress' });
    await complete(t);
    await waitFor(async () => (await records(t)).length === 2, { what: 'the records' });
    await notifiers.shift()!.stop();
    // the harshest restart: the consumer is gone, every event is read again from the start
    await (await jetstreamManager(nc)).consumers.delete(STREAMS.events, CONSUMERS.notifier);
    await start('n2');
    const marker = await submit('rs1', [{ kind: 'webhook', url: `${base}/hook/g2` }]);
    await complete(marker);
    await waitFor(() => hitsOf('g2').length === 1, { what: 'the new notifier delivering' });
    await waitFor(async () => (await records(marker)).length === 1, { what: 'the marker record' });
    expect(hitsOf('g')).toHaveLength(2);
    expect(await records(t)).toHaveLength(2);
    const ids = hits.map((h) => h.name + h.id + (h.body.type as string));
    // across every test so far: a message acknowledged with 2xx never arrived again
    const okOnce = hits.filter((h, i) => ids.indexOf(ids[i]!) !== i && !['b', 'c'].includes(h.name));
    expect(okOnce).toEqual([]);
  });

  it('two notifiers at once: one delivers, a burst of 50 tasks arrives once each, also across a hand-over', async () => {
    const standby = await start('n3');
    expect([notifiers[0]!.active, standby.active]).toEqual([true, false]);
    const tasks = await Promise.all(Array.from({ length: 50 }, () => submit('rp1', [{ kind: 'webhook', url: `${base}/hook/burst` }])));
    await Promise.all(tasks.slice(0, 25).map((t) => complete(t)));
    await waitFor(() => hitsOf('burst').length >= 10, { what: 'the first deliveries' });
    await notifiers.shift()!.stop(); // hand over mid-burst
    await Promise.all(tasks.slice(25).map((t) => complete(t)));
    await waitFor(() => standby.active, { what: 'the standby taking over' });
    await waitFor(() => new Set(hitsOf('burst').map((h) => h.id)).size === 50, { what: '50 deliveries', timeoutMs: 20_000 });
    await waitFor(async () => (await Promise.all(tasks.map(records))).every((r) => r.length === 1), { what: '50 records' });
    expect(hitsOf('burst')).toHaveLength(50);
    expect(hitsOf('burst').every((h) => h.verified)).toBe(true);
  });

  it('no secret appears in any event written', async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAMS.events);
    const raw = SECRET.slice('whsec_'.length);
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await jsm.direct.getMessage(STREAMS.events, { seq }).catch(() => null);
      if (!m) continue;
      const text = new TextDecoder().decode(m.data);
      expect(text.includes(raw) || text.includes('whsec_')).toBe(false);
    }
  });
});
