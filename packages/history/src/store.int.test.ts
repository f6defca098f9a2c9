import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evolveTask, makeEvent, type ErrandEvent, type TaskRecord } from '@errand/contracts';
import { BUCKETS } from './buckets.ts';
import { STATEMENT_ROWS } from './writes.ts';
import { embeddedBackend, feed, lifecycle, postgresBackend, submitted, task, at, unique, type Backend } from './testkit.ts';
import { BadCursor, StaleProjectorError, type HistoryStore } from './types.ts';

const backends: [string, () => Promise<Backend>][] = [
  ['embedded (PGlite)', embeddedBackend],
  ['postgres', postgresBackend],
];

function foldInMemory(events: ErrandEvent[], first: number): TaskRecord | undefined {
  let r: TaskRecord | undefined;
  events.forEach((e, i) => (r = evolveTask(r, e, first + i)));
  return r;
}

describe.each(backends)('history store: %s', (_name, make) => {
  let backend: Backend;
  let store: HistoryStore;

  beforeAll(async () => {
    backend = await make();
    store = await backend.open();
    await store.reset('log-1');
  });
  afterAll(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('folds a task’s whole life, read back equal to the fold in memory, with each change', async () => {
    const tenant = unique('t');
    const t = task('A', tenant);
    const events = [
      submitted('A', tenant),
      makeEvent('queued', t, at(1), { position: 2 }),
      makeEvent('dispatched', t, at(2), { attempt: 1, pool: 'default' }),
      makeEvent('started', t, at(100), { attempt: 1, workerId: 'w' }),
      makeEvent('progress', t, at(200), { attempt: 1, percent: 40, message: 'half' }),
      makeEvent('completed', t, at(1100), { attempt: 1, result: { rows: 3 } }),
    ];
    const one = await feed(store, events.slice(0, 3));
    const two = await feed(store, events.slice(3));
    const changes = [...one.changes, ...two.changes];
    expect(changes.map((c) => [c.before?.state, c.after.state])).toEqual([
      [undefined, 'submitted'],
      ['submitted', 'queued'],
      ['queued', 'dispatched'],
      ['dispatched', 'running'],
      ['running', 'running'],
      ['running', 'completed'],
    ]);
    expect(changes[4]!.after.progress).toEqual({ percent: 40, message: 'half' });
    expect(changes[5]!.before?.firstStartedAt).toBe(at(100));
    expect(changes.map((c) => c.seq)).toEqual(events.map((_, i) => one.first + i));
    expect(await store.getTask(tenant, 'A')).toEqual(foldInMemory(events, one.first));
    expect(await store.getTask('other', 'A')).toBeUndefined();
  });

  it('skips a replayed sequence, an orphan event and an item with no event, but advances the sequence', async () => {
    const tenant = unique('t');
    const { first } = await feed(store, [submitted('A', tenant)]);
    const applied = await store.appliedSeq();
    const changes = await store.apply(
      [
        { seq: first, event: makeEvent('queued', task('A', tenant), at(1), { position: 0 }) },
        { seq: applied + 1, event: undefined },
        { seq: applied + 2, event: makeEvent('queued', task('nobody', tenant), at(1), { position: 0 }) },
      ],
      applied + 5,
      applied,
    );
    expect(changes).toEqual([]);
    expect(await store.appliedSeq()).toBe(applied + 5);
    expect((await store.getTask(tenant, 'A'))?.state).toBe('submitted');
    expect(await store.getTask(tenant, 'nobody')).toBeUndefined();
  });

  it('refuses a stale writer and writes nothing', async () => {
    const tenant = unique('t');
    const applied = await store.appliedSeq();
    await expect(store.apply([{ seq: applied + 1, event: submitted('S', tenant) }], applied + 1, applied - 1)).rejects.toThrow(StaleProjectorError);
    expect(await store.appliedSeq()).toBe(applied);
    expect(await store.getTask(tenant, 'S')).toBeUndefined();
    expect((await store.metrics()).submitted.filter((s) => s.tenant === tenant)).toEqual([]);
  });

  describe('lists', () => {
    const tenant = unique('t');
    beforeAll(async () => {
      const events: ErrandEvent[] = [];
      for (let i = 0; i < 7; i++) events.push(submitted(`T${i}`, tenant, { user: i % 2 ? 'odd' : 'even', type: i < 3 ? 'demo.noop' : 'demo.sleep' }));
      events.push(submitted('X', unique('other')));
      events.push(makeEvent('queued', task('T4', tenant), at(1), { position: 0 }));
      await feed(store, events);
    });
    const ids = (items: TaskRecord[]) => items.map((r) => r.id);

    it('lists a tenant newest first, only its own', async () => {
      expect(ids((await store.list(tenant)).items)).toEqual(['T6', 'T5', 'T4', 'T3', 'T2', 'T1', 'T0']);
    });

    it('filters by state, user and type', async () => {
      expect(ids((await store.list(tenant, { state: 'queued' })).items)).toEqual(['T4']);
      expect(ids((await store.list(tenant, { user: 'odd' })).items)).toEqual(['T5', 'T3', 'T1']);
      expect(ids((await store.list(tenant, { type: 'demo.noop', user: 'even' })).items)).toEqual(['T2', 'T0']);
    });

    it('pages with a cursor until the end, and gives none when a page is exactly the rest', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await store.list(tenant, { limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...ids(page.items));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(['T6', 'T5', 'T4', 'T3', 'T2', 'T1', 'T0']);
      const page = await store.list(tenant, { user: 'odd', limit: 3 });
      expect(page.items).toHaveLength(3);
      expect(page.nextCursor).toBeNull();
      const filtered = await store.list(tenant, { user: 'even', limit: 2 });
      expect(ids((await store.list(tenant, { user: 'even', limit: 2, cursor: filtered.nextCursor! })).items)).toEqual(['T2', 'T0']);
    });

    it('refuses a cursor it did not give out', async () => {
      await expect(store.list(tenant, { cursor: 'garbage!' })).rejects.toThrow(BadCursor);
    });

    it('defaults to 50 and clamps the limit to [1, 1000]', async () => {
      const many = unique('t');
      await feed(store, Array.from({ length: 1100 }, (_, i) => submitted(`N${i}`, many)));
      expect((await store.list(many)).items).toHaveLength(50);
      expect((await store.list(many, { limit: 5000 })).items).toHaveLength(1000);
      expect((await store.list(many, { limit: 0 })).items).toHaveLength(1);
    });
  });

  it('computes completion time, failure rate and queue wait per type, as the in-memory projection did', async () => {
    const tenant = unique('t');
    await feed(store, [
      ...lifecycle('A', tenant, { startMs: 100, endMs: 1100, end: 'completed' }),
      ...lifecycle('B', tenant, { startMs: 300, endMs: 3300, end: 'completed' }),
      ...lifecycle('C', tenant, { startMs: 200, endMs: 500, end: 'failed' }),
    ]);
    // the same task types over two batches: the ends of earlier batches stay in the window
    await feed(store, [
      ...lifecycle('D', tenant, { startMs: 200, endMs: 500, end: 'timed-out' }),
      ...lifecycle('E', tenant, { startMs: 200, endMs: 500, end: 'cancelled', type: 'demo.noop' }),
      submitted('F', tenant, { type: 'demo.queued' }),
      makeEvent('completed', task('A', tenant), at(9000), { attempt: 1, result: 2 }), // late: changes nothing
    ]);
    const [noop, sleep] = await store.typeMetrics(tenant);
    expect(sleep).toMatchObject({
      type: 'demo.sleep',
      completionMs: { count: 2, avg: 2000, p50: 1000, p95: 3000 },
      failureRate: 0.5,
      terminal: 4,
    });
    expect(sleep!.queueWaitMs).toEqual({ count: 4, avg: 200, p95: 300 });
    expect(noop).toMatchObject({ type: 'demo.noop', failureRate: 0, completionMs: { count: 0, avg: null } });
    expect(await store.typeMetrics(tenant, 'demo.noop')).toEqual([noop]);
    expect(await store.typeMetrics(tenant)).toHaveLength(2); // demo.queued has neither a wait nor an end
    expect(await store.typeMetrics(unique('none'))).toEqual([]);
  });

  it('keeps the /metrics counters, histograms and gauges; a retried task counts its end again', async () => {
    const tenant = unique('t');
    const type = unique('m.');
    const c = task('C', tenant);
    await feed(store, [
      submitted('C', tenant, { type }),
      makeEvent('dispatched', c, at(2), { attempt: 1, pool: 'default' }),
      makeEvent('started', c, at(100), { attempt: 1, workerId: 'w' }),
      makeEvent('cancelled', c, at(300), { attempt: 1 }),
      submitted('Q', tenant, { type }),
      makeEvent('queued', task('Q', tenant), at(1), { position: 0 }),
    ]);
    await feed(store, [
      makeEvent('retry-requested', c, at(400), { by: 'api' }),
      makeEvent('retry-scheduled', c, at(400), { attempt: 2, notBefore: at(400) }),
      makeEvent('dispatched', c, at(410), { attempt: 2, pool: 'default' }),
      makeEvent('started', c, at(420), { attempt: 2, workerId: 'w' }),
      makeEvent('completed', c, at(900), { attempt: 2, result: 1 }),
      makeEvent('delivered', c, at(901), { target: { index: 0, kind: 'webhook' }, of: 'completed', deliveryId: 'd', tries: 1 }),
    ]);
    const m = await store.metrics();
    expect(m.submitted.filter((s) => s.tenant === tenant)).toEqual([{ tenant, type, value: 2 }]);
    expect(m.finished.filter((s) => s.tenant === tenant).sort((a, b) => a.outcome.localeCompare(b.outcome))).toEqual([
      { tenant, type, outcome: 'cancelled', value: 1 },
      { tenant, type, outcome: 'completed', value: 1 },
    ]);
    expect(m.deliveries).toContainEqual({ kind: 'webhook', outcome: 'delivered', value: 1 });
    const gauges = Object.fromEntries(m.tasks.filter((g) => g.tenant === tenant).map((g) => [g.state, g.value]));
    expect(gauges).toEqual({ submitted: 0, queued: 1, dispatched: 0, running: 0, retrying: 0 });
    const wait = m.wait.find((h) => h.type === type)!;
    expect(wait).toMatchObject({ count: 1, sum: 0.1 });
    expect(wait.buckets).toHaveLength(BUCKETS.length + 1);
    expect(wait.buckets.find((b) => b.le === 0.1)?.count).toBe(1);
    expect(wait.buckets.find((b) => b.le === 0.025)?.count).toBe(0);
    expect(wait.buckets.at(-1)).toEqual({ le: Number.POSITIVE_INFINITY, count: 1 });
    const run = m.run.find((h) => h.type === type)!;
    // first started → each end: 0.2 s (cancelled), then 0.8 s (completed)
    expect(run.count).toBe(2);
    expect(run.sum).toBeCloseTo(1.0);
    expect(run.buckets.find((b) => b.le === 0.25)?.count).toBe(1);
    expect(run.buckets.find((b) => b.le === 1)?.count).toBe(2);
  });

  it('expires tasks that ended before a time, up to a limit, and no others', async () => {
    await store.reset('log-expire');
    const tenant = unique('t');
    await feed(store, [
      ...lifecycle('old1', tenant, { startMs: 10, endMs: 1000, end: 'completed' }),
      ...lifecycle('old2', tenant, { startMs: 10, endMs: 2000, end: 'failed' }),
      ...lifecycle('new', tenant, { startMs: 10, endMs: 60_000, end: 'completed' }),
      submitted('open', tenant),
      // a large result and a checkpoint of attempt 1: their blobs go with the task
      ...lifecycle('blobs', tenant, { startMs: 10, endMs: 3000, end: 'cancelled' }).slice(0, 4),
      makeEvent('checkpoint', task('blobs', tenant), at(20), { attempt: 1, ref: 'obj:cp/x/blobs/1', bytes: 10 }),
      makeEvent('completed', task('blobs', tenant), at(3000), { attempt: 1, resultRef: 'obj:result/x/blobs' }),
    ]);
    const cutoff = new Date(at(30_000));
    const none = { resultBlob: false, checkpointAttempts: 0 };
    expect(await store.expire(cutoff, 1)).toEqual([{ tenant, id: 'old1', ...none }]);
    expect(await store.expire(cutoff, 10)).toEqual([
      { tenant, id: 'old2', ...none },
      { tenant, id: 'blobs', resultBlob: true, checkpointAttempts: 1 },
    ]);
    expect(await store.expire(cutoff, 10)).toEqual([]);
    expect(await store.getTask(tenant, 'old1')).toBeUndefined();
    expect((await store.list(tenant)).items.map((r) => r.id)).toEqual(['open', 'new']);
    // a late event of an expired task is an orphan: it does not bring the task back
    await feed(store, [makeEvent('delivered', task('old1', tenant), at(5000), { target: { index: 0, kind: 'nats' }, of: 'completed', deliveryId: 'd', tries: 1 })]);
    expect(await store.getTask(tenant, 'old1')).toBeUndefined();
  });

  it('resets to a new log: no tasks, no counters, applied 0, the new identity', async () => {
    const tenant = unique('t');
    await feed(store, [submitted('A', tenant)]);
    await store.reset('log-2');
    expect(await store.logIdentity()).toBe('log-2');
    expect(await store.appliedSeq()).toBe(0);
    expect(await store.getTask(tenant, 'A')).toBeUndefined();
    const m = await store.metrics();
    expect([m.submitted, m.finished, m.tasks, m.wait, m.run]).toEqual([[], [], [], [], []]);
    // a new log numbers from 1 again: the cache of the old one must not answer
    await feed(store, [submitted('A', tenant, { type: 'demo.after' })]);
    expect((await store.getTask(tenant, 'A'))?.type).toBe('demo.after');
  });

  it('writes a batch of more tasks than one statement takes, and reads back more records than one statement fetches', async () => {
    const tenant = unique('t');
    const n = STATEMENT_ROWS * 2 + 500;
    const ids = Array.from({ length: n }, (_, i) => `M${i}`);
    await feed(store, ids.map((id) => submitted(id, tenant)));
    // a store opened afresh has nothing cached: every record of the next batch is read back
    await store.close();
    store = await backend.open();
    const queued = await feed(store, ids.map((id, i) => makeEvent('queued', task(id, tenant), at(1), { position: i })));
    expect(queued.changes.map((c) => [c.before?.state, c.after.state])).toEqual(ids.map(() => ['submitted', 'queued']));
    for (const i of [0, STATEMENT_ROWS - 1, STATEMENT_ROWS, n - 1]) expect(await store.getTask(tenant, ids[i]!)).toMatchObject({ state: 'queued', position: i });
  });

  it('reopens with its data', async () => {
    const tenant = unique('t');
    await feed(store, [submitted('K', tenant)]);
    const applied = await store.appliedSeq();
    await store.close();
    store = await backend.open();
    expect(await store.appliedSeq()).toBe(applied);
    expect(await store.logIdentity()).toBe('log-2');
    expect((await store.getTask(tenant, 'K'))?.state).toBe('submitted');
  });
});
