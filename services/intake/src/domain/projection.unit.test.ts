import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import { Projection, BadCursor } from './projection.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { percentile } from './stats.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function submitted(id: string, o: { tenant?: string; user?: string; type?: string; ms?: number } = {}) {
  return makeEvent('submitted', { taskId: id, tenant: o.tenant ?? 'acme' }, at(o.ms ?? 0), {
    user: o.user ?? 'u1',
    taskType: o.type ?? 'demo.sleep',
    params: {},
    priority: 5,
    timeoutMs: 1000,
    progressEveryMs: 1000,
    deliver: [],
  });
}
const task = (id: string, tenant = 'acme') => ({ taskId: id, tenant });

/** Feed events with increasing sequences. */
function feed(p: Projection, events: ErrandEvent[], start = 1): number {
  let seq = start;
  for (const e of events) p.apply(e, seq++);
  return seq;
}

function lifecycle(id: string, o: { type?: string; startMs: number; endMs: number; end: 'completed' | 'failed' | 'timed-out' | 'cancelled' }) {
  const t = task(id);
  const events: ErrandEvent[] = [
    submitted(id, { type: o.type }),
    makeEvent('queued', t, at(1), { position: 0 }),
    makeEvent('dispatched', t, at(2), { attempt: 1, pool: 'default' }),
    makeEvent('started', t, at(o.startMs), { attempt: 1, workerId: 'w' }),
  ];
  if (o.end === 'completed') events.push(makeEvent('completed', t, at(o.endMs), { attempt: 1, result: 1 }));
  if (o.end === 'failed') events.push(makeEvent('failed', t, at(o.endMs), { attempt: 1, error: { code: 'x', message: 'x' }, willRetry: false }));
  if (o.end === 'timed-out') events.push(makeEvent('timed-out', t, at(o.endMs), { attempt: 1, timeoutMs: 1000 }));
  if (o.end === 'cancelled') events.push(makeEvent('cancelled', t, at(o.endMs), { attempt: 1 }));
  return events;
}

describe('Projection: fold', () => {
  it('folds a task and tracks the applied sequence', () => {
    const p = new Projection();
    feed(p, [submitted('A'), makeEvent('queued', task('A'), at(1), { position: 3 })], 10);
    expect(p.get('acme', 'A')).toMatchObject({ state: 'queued', position: 3, lastSeq: 11, submitSeq: 10 });
    expect(p.appliedSeq).toBe(11);
    expect(p.get('other', 'A')).toBeUndefined();
  });

  it('ignores an orphan event but still advances the sequence', () => {
    const p = new Projection();
    expect(p.apply(makeEvent('queued', task('Z'), at(1), { position: 0 }), 7)).toBeUndefined();
    expect(p.size).toBe(0);
    expect(p.appliedSeq).toBe(7);
  });

  it('applies a replayed sequence once', () => {
    const p = new Projection();
    feed(p, [submitted('A'), makeEvent('queued', task('A'), at(1), { position: 0 })]);
    p.apply(makeEvent('queued', task('A'), at(1), { position: 0 }), 2);
    expect(p.get('acme', 'A')?.eventCount).toBe(2);
  });
});

describe('Projection: list', () => {
  function many(): Projection {
    const p = new Projection();
    const events: ErrandEvent[] = [];
    for (let i = 0; i < 7; i++) {
      events.push(submitted(`T${i}`, { user: i % 2 ? 'odd' : 'even', type: i < 3 ? 'demo.noop' : 'demo.sleep' }));
    }
    events.push(submitted('X', { tenant: 'other' }));
    events.push(makeEvent('queued', task('T4'), at(1), { position: 0 }));
    feed(p, events);
    return p;
  }

  it('lists a tenant newest first, only its own', () => {
    const ids = many().list('acme').items.map((r) => r.id);
    expect(ids).toEqual(['T6', 'T5', 'T4', 'T3', 'T2', 'T1', 'T0']);
  });

  it('filters by state, user and type', () => {
    const p = many();
    expect(p.list('acme', { state: 'queued' }).items.map((r) => r.id)).toEqual(['T4']);
    expect(p.list('acme', { user: 'odd' }).items.map((r) => r.id)).toEqual(['T5', 'T3', 'T1']);
    expect(p.list('acme', { type: 'demo.noop', user: 'even' }).items.map((r) => r.id)).toEqual(['T2', 'T0']);
  });

  it('pages with an opaque cursor until the end', () => {
    const p = many();
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = p.list('acme', { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['T6', 'T5', 'T4', 'T3', 'T2', 'T1', 'T0']);
  });

  it('gives no cursor when the page is exactly the rest', () => {
    const page = many().list('acme', { user: 'odd', limit: 3 });
    expect(page.items).toHaveLength(3);
    expect(page.nextCursor).toBeNull();
  });

  it('defaults to 50 and caps at 1000', () => {
    const p = new Projection();
    feed(p, Array.from({ length: 1100 }, (_, i) => submitted(`N${i}`)));
    expect(p.list('acme').items).toHaveLength(50);
    expect(p.list('acme', { limit: 5000 }).items).toHaveLength(1000);
  });

  it('refuses a cursor it did not give out', () => {
    expect(() => many().list('acme', { cursor: 'garbage!' })).toThrow(BadCursor);
  });
});

describe('Projection: metrics', () => {
  it('computes completion time, failure rate and queue wait per type', () => {
    const p = new Projection();
    const events = [
      ...lifecycle('A', { startMs: 100, endMs: 1100, end: 'completed' }),
      ...lifecycle('B', { startMs: 300, endMs: 3300, end: 'completed' }),
      ...lifecycle('C', { startMs: 200, endMs: 500, end: 'failed' }),
      ...lifecycle('D', { startMs: 200, endMs: 500, end: 'timed-out' }),
      ...lifecycle('E', { startMs: 200, endMs: 500, end: 'cancelled', type: 'demo.noop' }),
    ];
    feed(p, events);
    const [noop, sleep] = p.metrics('acme');
    expect(sleep).toMatchObject({
      type: 'demo.sleep',
      completionMs: { count: 2, avg: 2000, p50: 1000, p95: 3000 },
      failureRate: 0.5,
      terminal: 4,
    });
    expect(sleep!.queueWaitMs).toEqual({ count: 4, avg: 200, p95: 300 });
    expect(noop).toMatchObject({ type: 'demo.noop', failureRate: 0, completionMs: { count: 0, avg: null } });
    expect(p.metrics('other')).toEqual([]);
  });

  it('counts a late terminal event once and keeps a bounded window', () => {
    const p = new Projection(2);
    let seq = 1;
    for (const id of ['A', 'B', 'C']) seq = feed(p, lifecycle(id, { startMs: 10, endMs: id === 'C' ? 1010 : 110, end: 'completed' }), seq);
    p.apply(makeEvent('failed', task('C'), at(2000), { attempt: 1, error: { code: 'x', message: 'x' }, willRetry: false }), seq);
    const [m] = p.metrics('acme');
    expect(m!.terminal).toBe(2);
    expect(m!.failureRate).toBe(0);
    expect(m!.completionMs).toMatchObject({ count: 2, p95: 1000 });
  });
});

describe('helpers', () => {
  it('round-trips cursors', () => {
    expect(decodeCursor(encodeCursor(12345))).toBe(12345);
    expect(decodeCursor('nope')).toBeUndefined();
  });
  it('takes nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([7], 95)).toBe(7);
  });
});
