import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstream, AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { loadConfig } from '@errand/config';
import {
  BUCKETS,
  STREAMS,
  decodeJson,
  decidedNoteSchema,
  encodeJson,
  type DecidedNote,
  waitingReplySchema,
  type Heartbeat,
  makeEvent,
  newTaskId,
  subjects,
  workMessageSchema,
  type ErrandEvent,
  type TaskTypeInfo,
} from '@errand/contracts';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { buildScheduler, type Scheduler } from './app.ts';

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
const running: Scheduler[] = [];
const logger = createLogger('scheduler-test', {}, 'error');

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'test' });
  await provision(nc, { leaseMs: 2_000 });
  log = new EventLog(nc);
  const kv = await new Kvm(nc).open(BUCKETS.types);
  for (const name of ['demo.sleep', 'mine.slow']) {
    const info: TaskTypeInfo = {
      name,
      paramsSchema: {},
      pool: 'default',
      defaults: { timeoutMs: 600_000, priority: 5, maxAttempts: 2 },
      updatedAt: new Date().toISOString(),
    };
    await kv.put(name, JSON.stringify(info));
  }
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});
afterAll(async () => {
  log?.close();
  await nc?.close();
  await server?.stop();
});

async function scheduler(env: Record<string, string> = {}) {
  const config = loadConfig({ NATS_URL: server.url, ERRAND_CONCURRENCY: '1', ...env });
  const s = await buildScheduler({ config, nc, log: logger });
  await s.start();
  running.push(s);
  await waitFor(() => s.lease.held && s.runtime.isCaughtUp, { what: 'leadership' });
  return s;
}

async function submit(tenant: string, priority = 5, user = 'u', taskType = 'demo.sleep', params: unknown = {}) {
  const id = newTaskId();
  await log.append(
    makeEvent('submitted', { taskId: id, tenant }, new Date(), {
      user,
      taskType,
      params,
      priority,
      timeoutMs: 60_000,
      progressEveryMs: 10_000,
      deliver: [],
    }),
  );
  return id;
}

const types = async (tenant: string, id: string) => (await log.history(tenant, id)).map((e) => e.event.type);

/**
 * A worker played by the test: beats for its type (which makes the type
 * live; it names no running attempt, so their leases are not renewed), takes
 * the type's work messages and completes them (or not).
 */
async function fakeWorker(opts: { complete: boolean; started: string[]; type?: string; params?: Map<string, unknown> }) {
  const type = opts.type ?? 'demo.sleep';
  const name = `test-worker-${type.replace('.', '-')}`;
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(STREAMS.work, { durable_name: name, ack_policy: AckPolicy.Explicit, filter_subject: subjects.work('default', type) });
  const c = await jetstream(nc).consumers.get(STREAMS.work, name);
  const beat = (stopping = false) =>
    nc.publish(subjects.heartbeat, encodeJson({ workerId: name, at: new Date().toISOString(), tasks: [], types: [type], slots: 4, freeSlots: 4, ...(stopping ? { stopping } : {}) } satisfies Heartbeat));
  beat();
  const beats = setInterval(beat, 200);
  const iter = await c.consume({
    max_messages: 10,
    callback: (m) => {
      const w = workMessageSchema.parse(decodeJson(m.data));
      m.ack();
      opts.params?.set(w.taskId, w.params);
      void (async () => {
        const t = { taskId: w.taskId, tenant: w.tenant };
        await log.append(makeEvent('started', t, new Date(), { attempt: w.attempt, workerId: 'fake' }), { expectLastSeq: w.dispatchSeq });
        opts.started.push(w.taskId);
        if (opts.complete) await log.append(makeEvent('completed', t, new Date(), { attempt: w.attempt, result: w.attempt }));
      })();
    },
  });
  return {
    stop: async () => {
      clearInterval(beats);
      beat(true);
      await iter.close();
      await jsm.consumers.delete(STREAMS.work, name);
    },
  };
}

describe('scheduler against a real NATS', () => {
  it('admits, dispatches one at a time by priority, and completes every task once', async () => {
    const tenant = 'prio';
    const sched = await scheduler();
    const started: string[] = [];
    const w = await fakeWorker({ complete: false, started });
    const first = await submit(tenant, 5);
    await waitFor(() => started.includes(first), { what: 'the first task to start' });
    const low = await submit(tenant, 2);
    const high = await submit(tenant, 8);
    const normal = await submit(tenant, 5);
    await waitFor(async () => (await types(tenant, normal)).includes('queued'), { what: 'admissions' });
    // finish tasks one by one: the next starts only when a slot frees
    for (const id of [first, high, normal, low]) {
      await waitFor(() => started.includes(id), { what: `task ${id} to start` });
      expect(sched.runtime.state.active.size).toBe(1);
      await log.append(makeEvent('completed', { taskId: id, tenant }, new Date(), { attempt: 1, result: 'ok' }));
    }
    expect(started).toEqual([first, high, normal, low]);
    for (const id of [first, high, normal, low]) {
      const h = await types(tenant, id);
      expect(h.filter((t) => t === 'queued')).toHaveLength(1);
      expect(h.filter((t) => t === 'dispatched')).toHaveLength(1);
    }
    await w.stop();
  });

  it('loses nothing and dispatches nothing twice across a scheduler restart', async () => {
    const tenant = 'restart';
    const started: string[] = [];
    const w = await fakeWorker({ complete: true, started });
    const first = await scheduler({ ERRAND_CONCURRENCY: '3' });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await submit(tenant, i % 10, `u${i % 3}`));
    await waitFor(() => started.length >= 3, { what: 'some tasks to start' });
    // a crash: the runtime stops without handing over the lease
    await first.stop({ release: false });
    running.splice(running.indexOf(first), 1);
    await scheduler({ ERRAND_CONCURRENCY: '3' });
    await waitFor(async () => {
      for (const id of ids) if (!(await types(tenant, id)).includes('completed')) return false;
      return true;
    }, { timeoutMs: 20_000, what: 'all tasks to complete' });
    for (const id of ids) {
      const h = await types(tenant, id);
      expect(h.filter((t) => t === 'dispatched'), id).toHaveLength(1);
      expect(h.filter((t) => t === 'completed'), id).toHaveLength(1);
    }
    await w.stop();
  });

  it('takes a running task up again when its worker stops beating, up to the max attempts', async () => {
    const tenant = 'lease';
    await scheduler({ ERRAND_LEASE_MS: '1000', ERRAND_RETRY_BASE_MS: '0' });
    const started: string[] = [];
    const w = await fakeWorker({ complete: false, started });
    const id = await submit(tenant);
    await waitFor(async () => (await types(tenant, id)).filter((t) => t === 'failed').length === 2, { timeoutMs: 15_000, what: 'two lost attempts' });
    const h = (await log.history(tenant, id)).map((e) => e.event) as ErrandEvent[];
    const failed = h.filter((e) => e.type === 'failed');
    expect(failed.map((e) => [e.attempt, e.willRetry, e.error.code])).toEqual([
      [1, true, 'worker_lost'],
      [2, false, 'worker_lost'],
    ]);
    expect(h.filter((e) => e.type === 'dispatched').map((e) => e.attempt)).toEqual([1, 2]);
    await w.stop();
  });

  it('writes a snapshot and a restarted scheduler starts from it, then finishes the work', async () => {
    const tenant = 'snap';
    const started: string[] = [];
    const params = new Map<string, unknown>();
    const w = await fakeWorker({ complete: true, started, params });
    const first = await scheduler({ ERRAND_CONCURRENCY: '2', ERRAND_SNAPSHOT_EVERY: '100' });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await submit(tenant, 5, `u${i % 8}`, 'demo.sleep', { i, text: 'x'.repeat(i) }));
    await waitFor(() => first.runtime.snapshotSeq > 0, { timeoutMs: 15_000, what: 'a snapshot' });
    await first.stop({ release: false });
    running.splice(running.indexOf(first), 1);
    const second = await scheduler({ ERRAND_CONCURRENCY: '2', ERRAND_SNAPSHOT_EVERY: '100' });
    expect(second.runtime.snapshotSeq).toBeGreaterThan(0);
    await waitFor(async () => {
      for (const id of ids) if (!(await types(tenant, id)).includes('completed')) return false;
      return true;
    }, { timeoutMs: 20_000, what: 'all tasks to complete' });
    for (const id of ids) expect((await types(tenant, id)).filter((t) => t === 'dispatched')).toHaveLength(1);
    // the state keeps no params: each work message has them, whether kept since `submitted` or read
    // back from the log (the tasks the second scheduler restored from the snapshot)
    expect(ids.map((id) => params.get(id))).toEqual(ids.map((_, i) => ({ i, text: 'x'.repeat(i) })));
    await w.stop();
  });

  it('keeps a task whose type has no live worker queued, holding no slot, and dispatches it when a worker appears', async () => {
    const tenant = 'route';
    const sched = await scheduler({ ERRAND_CONCURRENCY: '1' });
    const started: string[] = [];
    const sleepy = await fakeWorker({ complete: true, started });
    const mine = await submit(tenant, 9, 'u', 'mine.slow');
    const sleeps = [await submit(tenant), await submit(tenant), await submit(tenant)];
    // the demo.sleep tasks run one at a time past it, although it has the higher priority
    await waitFor(async () => {
      for (const id of sleeps) if (!(await types(tenant, id)).includes('completed')) return false;
      return true;
    }, { what: 'the live type\'s tasks to complete' });
    expect(await types(tenant, mine)).toEqual(['submitted', 'queued']);
    expect(sched.runtime.state.active.size).toBe(0);
    // the leader answers why it waits
    const reply = waitingReplySchema.parse(decodeJson((await nc.request(subjects.waiting, encodeJson({ tasks: [{ tenant, id: mine }] }), { timeout: 2_000 })).data));
    expect(reply.items[mine]).toMatchObject({ reason: 'no_worker' });
    // a worker for its type beats: it is dispatched and started
    const own = await fakeWorker({ complete: true, started, type: 'mine.slow' });
    await waitFor(async () => (await types(tenant, mine)).includes('completed'), { what: 'the task to run once its worker appears' });
    await own.stop();
    await sleepy.stop();
  });

  it('answers why tasks wait: all slots busy, with the tasks ahead', async () => {
    const tenant = 'why';
    await scheduler({ ERRAND_CONCURRENCY: '1' });
    const started: string[] = [];
    const w = await fakeWorker({ complete: false, started });
    const first = await submit(tenant);
    await waitFor(() => started.includes(first), { what: 'the first task to start' });
    const second = await submit(tenant);
    const third = await submit(tenant, 5, 'other');
    await waitFor(async () => (await types(tenant, third)).includes('queued'), { what: 'admissions' });
    const ask = async () =>
      waitingReplySchema.parse(decodeJson((await nc.request(subjects.waiting, encodeJson({ tasks: [first, second, third].map((id) => ({ tenant, id })) }), { timeout: 2_000 })).data));
    const reply = await ask();
    expect(reply.items[first]).toBeUndefined(); // running: not waiting
    expect(reply.items[second]).toEqual({ reason: 'concurrency', ahead: 0, message: '0 tasks ahead; the 1 slot is busy' });
    expect(reply.items[third]).toMatchObject({ reason: 'concurrency', ahead: 1 });
    await log.append(makeEvent('completed', { taskId: first, tenant }, new Date(), { attempt: 1, result: 'ok' }));
    await waitFor(() => started.includes(second), { what: 'the second task to start' });
    expect((await ask()).items[third]).toMatchObject({ reason: 'concurrency', ahead: 0 });
    await w.stop();
  });

  it('notes each queued and rejected decision to the intakes once it is in the log, with its sequence', async () => {
    const tenant = 'noted';
    await scheduler({ ERRAND_CONCURRENCY: '1' });
    const notes: DecidedNote['d'] = [];
    const sub = nc.subscribe(subjects.decided, { callback: (err, m) => void (err || notes.push(...decidedNoteSchema.parse(decodeJson(m.data)).d)) });
    await nc.flush();
    const known = await submit(tenant);
    const unknown = await submit(tenant, 5, 'u', 'nobody.serves-this');
    await waitFor(() => notes.some((n) => n.i === known) && notes.some((n) => n.i === unknown), { what: 'both decisions noted' });
    sub.unsubscribe();
    const q = notes.find((n) => n.i === known)!;
    const r = notes.find((n) => n.i === unknown)!;
    const [queued] = (await log.history(tenant, known)).filter((e) => e.event.type === 'queued');
    const [rejected] = (await log.history(tenant, unknown)).filter((e) => e.event.type === 'rejected');
    expect(q).toEqual({ t: tenant, i: known, s: 'queued', q: queued!.seq, p: (queued!.event as { position: number }).position });
    expect(r).toMatchObject({ t: tenant, i: unknown, s: 'rejected', q: rejected!.seq, c: 'unknown_type' });
  });
});
