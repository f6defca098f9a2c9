import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent } from './index.ts';
import { evolveTask, type TaskRecord } from './task.ts';
import { toView } from './view.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const t = { taskId: 'a', tenant: 't' };
function fold(events: ErrandEvent[]): TaskRecord {
  let r: TaskRecord | undefined;
  events.forEach((e, i) => (r = evolveTask(r, e, i + 1)));
  return r!;
}
const submitted = makeEvent('submitted', t, at(0), {
  user: 'u',
  taskType: 'demo.sleep',
  params: {},
  priority: 5,
  timeoutMs: 1000,
  progressEveryMs: 1000,
  deliver: [{ kind: 'memory' }],
});

describe('the task fold', () => {
  it('follows a task through its life and computes the view timings', () => {
    const r = fold([
      submitted,
      makeEvent('queued', t, at(1), { position: 0 }),
      makeEvent('dispatched', t, at(2), { attempt: 1, pool: 'default' }),
      makeEvent('started', t, at(3), { attempt: 1, workerId: 'w' }),
      makeEvent('progress', t, at(4), { attempt: 1, percent: 50, etaMs: 1000 }),
      makeEvent('completed', t, at(6), { attempt: 1, result: { ok: true } }),
    ]);
    const v = toView(r);
    expect(v).toMatchObject({ state: 'completed', attempt: 1, waitMs: 3000, runMs: 3000, result: { ok: true } });
    expect(v.progress).toEqual({ percent: 100, message: null, etaMs: 0 });
  });

  it('lets the first terminal event win and fences stale attempts', () => {
    const r = fold([
      submitted,
      makeEvent('queued', t, at(1), { position: 0 }),
      makeEvent('dispatched', t, at(2), { attempt: 1, pool: 'default' }),
      makeEvent('started', t, at(3), { attempt: 1, workerId: 'w' }),
      makeEvent('failed', t, at(4), { attempt: 1, error: { code: 'worker_lost', message: '' }, willRetry: true }),
      makeEvent('progress', t, at(5), { attempt: 1, percent: 90 }),
      makeEvent('retry-scheduled', t, at(5), { attempt: 2, notBefore: at(6).toISOString() }),
      makeEvent('dispatched', t, at(6), { attempt: 2, pool: 'default' }),
      makeEvent('completed', t, at(7), { attempt: 1, result: 'stale' }),
      makeEvent('started', t, at(8), { attempt: 2, workerId: 'w2' }),
      makeEvent('timed-out', t, at(9), { attempt: 2, timeoutMs: 1000 }),
      makeEvent('completed', t, at(10), { attempt: 2, result: 'late' }),
    ]);
    expect(r.state).toBe('timed-out');
    expect(r.progress.percent).toBe(0);
    expect(r.result).toBeUndefined();
  });

  it('reopens a cancelled task on a retry request, fencing the old attempt', () => {
    const r = fold([
      submitted,
      makeEvent('dispatched', t, at(2), { attempt: 1, pool: 'default' }),
      makeEvent('checkpoint', t, at(3), { attempt: 1, ref: 'obj:cp', bytes: 1 }),
      makeEvent('cancelled', t, at(4), { attempt: 1, partial: 'obj:cp' }),
      makeEvent('retry-requested', t, at(5), { by: 'api' }),
      makeEvent('completed', t, at(6), { attempt: 1, result: 'late' }),
    ]);
    expect(r).toMatchObject({ state: 'retrying', fence: 2, checkpointRef: 'obj:cp' });
    expect(r.partialRef).toBeUndefined();
  });

  it('shows each target as its latest message left it', () => {
    const d = (type: 'delivered' | 'delivery-failed', tries: number, error?: string) =>
      makeEvent(type, t, at(9), { target: { index: 0, kind: 'memory' }, of: 'progress', deliveryId: `x${tries}`, tries, ...(error ? { error } : {}) });
    const failed = fold([submitted, d('delivery-failed', 3, 'boom')]);
    expect(failed.deliveries[0]).toMatchObject({ state: 'failed', tries: 3, lastError: 'boom' });
    const healed = fold([submitted, d('delivery-failed', 3, 'boom'), d('delivered', 2)]);
    expect(healed.deliveries[0]).toEqual({ index: 0, kind: 'memory', state: 'delivered', tries: 2 });
  });

  it('ignores an event it has already applied', () => {
    const r1 = evolveTask(undefined, submitted, 1)!;
    const q = makeEvent('queued', t, at(1), { position: 0 });
    const r2 = evolveTask(r1, q, 2)!;
    expect(evolveTask(r2, q, 2)).toBe(r2);
  });
});
