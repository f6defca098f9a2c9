import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import { controlAction, decideAfterConflict } from './control.ts';

const t = { taskId: 'T1', tenant: 'acme' };
const at = '2025-01-01T00:00:00.000Z';
const ev = {
  cancel: (discardPartial?: boolean) => makeEvent('cancel-requested', t, at, { by: 'u', ...(discardPartial ? { discardPartial } : {}) }),
  dispatched: (attempt: number) => makeEvent('dispatched', t, at, { attempt, pool: 'default' }),
  started: (attempt: number) => makeEvent('started', t, at, { attempt, workerId: 'w' }),
  failed: (attempt: number) => makeEvent('failed', t, at, { attempt, error: { code: 'worker_lost', message: '' }, willRetry: true }),
  timedOut: (attempt: number) => makeEvent('timed-out', t, at, { attempt, timeoutMs: 10 }),
  cancelled: () => makeEvent('cancelled', t, at, {}),
  progress: (attempt: number) => makeEvent('progress', t, at, { attempt, percent: 5 }),
  delivered: () => makeEvent('delivered', t, at, { target: { index: 0, kind: 'nats' }, of: 'progress', deliveryId: 'd', tries: 1 }),
};

describe('controlAction (attempt 2 running)', () => {
  it('cancels on cancel-requested, keeping discardPartial', () => {
    expect(controlAction(2, ev.cancel())).toEqual({ kind: 'cancel', discardPartial: false });
    expect(controlAction(2, ev.cancel(true))).toEqual({ kind: 'cancel', discardPartial: true });
  });
  it('stops silently on what ends or supersedes the attempt', () => {
    expect(controlAction(2, ev.dispatched(3)).kind).toBe('superseded');
    expect(controlAction(2, ev.failed(2)).kind).toBe('superseded');
    expect(controlAction(2, ev.timedOut(2)).kind).toBe('superseded');
    expect(controlAction(2, ev.cancelled()).kind).toBe('superseded');
  });
  it('ignores its own events, older attempts and other events', () => {
    const ignored: ErrandEvent[] = [ev.started(2), ev.progress(2), ev.dispatched(2), ev.failed(1), ev.timedOut(1), ev.delivered()];
    for (const e of ignored) expect(controlAction(2, e)).toEqual({ kind: 'ignore' });
  });
});

describe('decideAfterConflict', () => {
  const after = (...events: ErrandEvent[]) => events.map((event, i) => ({ seq: 11 + i, event }));
  it('retries with the new last sequence when only harmless events came in', () => {
    expect(decideAfterConflict(2, after(ev.progress(1), ev.delivered()), 10)).toEqual({ kind: 'retry', lastSeq: 12 });
  });
  it('drops when the attempt already started, was cancelled or superseded', () => {
    expect(decideAfterConflict(2, after(ev.started(2)), 10).kind).toBe('drop');
    expect(decideAfterConflict(2, after(ev.cancel()), 10).kind).toBe('drop');
    expect(decideAfterConflict(2, after(ev.dispatched(3)), 10).kind).toBe('drop');
    expect(decideAfterConflict(2, after(ev.cancelled()), 10).kind).toBe('drop');
  });
});
