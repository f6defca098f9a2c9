import { describe, expect, it } from 'vitest';
import { makeEvent } from '@errand/contracts';
import { bucketIndex, BUCKETS } from './buckets.ts';
import { foldBatch } from './fold.ts';
import { at, lifecycle, submitted, task } from './testkit.ts';

const items = (events: ReturnType<typeof lifecycle>, first = 1) => events.map((event, i) => ({ seq: first + i, event }));

describe('foldBatch', () => {
  it('gives each change its own record and leaves the known records alone', () => {
    const first = foldBatch(items([submitted('A', 'acme')]), new Map());
    const known = first.records;
    const rec = known.get('acme/A')!;
    const { changes } = foldBatch(
      items([makeEvent('queued', task('A', 'acme'), at(1), { position: 1 }), makeEvent('dispatched', task('A', 'acme'), at(2), { attempt: 1, pool: 'p' })], 2),
      known,
    );
    expect(changes.map((c) => c.after.state)).toEqual(['queued', 'dispatched']);
    expect(rec.state).toBe('submitted');
  });

  it('marks the first start and the end with their sequences, the end time from finishedAt', () => {
    const { rows } = foldBatch(items(lifecycle('A', 'acme', { startMs: 100, endMs: 1100, end: 'completed' })), new Map());
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ started_seq: 4, ended_seq: 5, wait_ms: 100, run_ms: 1000, ended_at: at(1100), state: 'completed' });
  });

  it('leaves the sequences to the stored row when the batch did not move them', () => {
    const done = foldBatch(items(lifecycle('A', 'acme', { startMs: 100, endMs: 1100, end: 'completed' })), new Map());
    const late = foldBatch(items([makeEvent('delivered', task('A', 'acme'), at(2000), { target: { index: 0, kind: 'nats' }, of: 'completed', deliveryId: 'd', tries: 1 })], 6), done.records);
    expect(late.rows[0]).toMatchObject({ started_seq: null, ended_seq: null, ended_at: at(1100) });
    expect(late.changes).toHaveLength(1);
  });

  it('counts into per-batch deltas', () => {
    const { deltas } = foldBatch(items(lifecycle('A', 'acme', { startMs: 100, endMs: 1100, end: 'failed' })), new Map());
    const value = (name: string, ...labels: string[]) => deltas.counters.get(JSON.stringify([name, ...labels]))?.value;
    expect(value('submitted', 'acme', 'demo.sleep')).toBe(1);
    expect(value('finished', 'acme', 'demo.sleep', 'failed')).toBe(1);
    expect(value('tasks', 'acme', 'running')).toBe(0);
    expect(deltas.histograms.get('run demo.sleep')).toMatchObject({ count: 1, sum: 1 });
  });
});

describe('bucketIndex', () => {
  it('puts a value in the first bucket whose bound is not below it, +Inf last', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(0.005)).toBe(0);
    expect(bucketIndex(0.0051)).toBe(1);
    expect(bucketIndex(1e9)).toBe(BUCKETS.length);
  });
});
