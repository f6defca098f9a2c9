import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import { catchUp, controlAction, decideAfterConflict } from './control.ts';

const t = { taskId: 'T1', tenant: 'acme' };
const at = '2025-01-01T00:00:00.000Z';
const ev = {
  cancel: (discardPartial?: boolean) => makeEvent('cancel-requested', t, at, { by: 'u', ...(discardPartial ? { discardPartial } : {}) }),
  dispatched: (attempt: number) => makeEvent('dispatched', t, at, { attempt, pool: 'default' }),
  started: (attempt: number) => makeEvent('started', t, at, { attempt, workerId: 'w' }),
  failed: (attempt: number) => makeEvent('failed', t, at, { attempt, error: { code: 'worker_lost', message: '' }, willRetry: true }),
  timedOut: (attempt: number) => makeEvent('timed-out', t, at, { attempt, timeoutMs: 10 }),
  cancelled: (attempt?: number) => makeEvent('cancelled', t, at, attempt ? { attempt } : {}),
  progress: (attempt: number) => makeEvent('progress', t, at, { attempt, percent: 5 }),
  checkpoint: (attempt: number) => makeEvent('checkpoint', t, at, { attempt, ref: `obj:cp/acme/T1/${attempt}`, bytes: 1 }),
  completed: (attempt: number) => makeEvent('completed', t, at, { attempt, result: null }),
  retryScheduled: (attempt: number) => makeEvent('retry-scheduled', t, at, { attempt, notBefore: at }),
  retryRequested: () => makeEvent('retry-requested', t, at, { by: 'u' }),
  rejected: () => makeEvent('rejected', t, at, { code: 'invalid', message: '' }),
  queued: () => makeEvent('queued', t, at, { position: 0 }),
  delivered: () => makeEvent('delivered', t, at, { target: { index: 0, kind: 'nats' }, of: 'progress', deliveryId: 'd', tries: 1 }),
  deliveryFailed: () => makeEvent('delivery-failed', t, at, { target: { index: 0, kind: 'nats' }, of: 'progress', deliveryId: 'd', tries: 3 }),
};

describe('controlAction (attempt 2 running)', () => {
  it('cancels on cancel-requested, keeping discardPartial', () => {
    expect(controlAction(2, ev.cancel())).toEqual({ kind: 'cancel', discardPartial: false });
    expect(controlAction(2, ev.cancel(true))).toEqual({ kind: 'cancel', discardPartial: true });
  });
  it('stops silently on what ends or supersedes the attempt', () => {
    const stopping: ErrandEvent[] = [
      ev.dispatched(3),
      ev.started(3),
      ev.progress(3),
      ev.checkpoint(3),
      ev.retryScheduled(3),
      ev.failed(2),
      ev.timedOut(2),
      ev.completed(2),
      ev.cancelled(),
      ev.cancelled(2),
      ev.rejected(),
    ];
    for (const e of stopping) expect(controlAction(2, e).kind, e.type).toBe('superseded');
  });
  it('ignores its own events, older attempts and events that change nothing for it', () => {
    const ignored: ErrandEvent[] = [
      ev.started(2),
      ev.progress(2),
      ev.checkpoint(2),
      ev.dispatched(2),
      ev.retryScheduled(2),
      ev.failed(1),
      ev.timedOut(1),
      ev.completed(1),
      ev.cancelled(1),
      ev.queued(),
      ev.retryRequested(),
      ev.delivered(),
      ev.deliveryFailed(),
    ];
    for (const e of ignored) expect(controlAction(2, e), e.type).toEqual({ kind: 'ignore' });
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

describe('catchUp (attempt 2 knows the subject up to 10; its write was refused)', () => {
  const after = (...events: ErrandEvent[]) => events.map((event, i) => ({ seq: 11 + i, event }));
  it('writes again on the new last sequence when nothing came that concerns it', () => {
    expect(catchUp(2, after(ev.delivered(), ev.deliveryFailed(), ev.progress(2)), 10)).toEqual({ lastSeq: 13, action: { kind: 'ignore' } });
  });
  it('keeps what it knew when nothing came (a control read got there first)', () => {
    expect(catchUp(2, [], 10)).toEqual({ lastSeq: 10, action: { kind: 'ignore' } });
  });
  it('a cancel request: cancel, and still write (cancelled last) after it', () => {
    expect(catchUp(2, after(ev.delivered(), ev.cancel()), 10)).toEqual({ lastSeq: 12, action: { kind: 'cancel', discardPartial: false } });
  });
  it('two cancel requests: discardPartial as the fold reads it, the last one that says', () => {
    expect(catchUp(2, after(ev.cancel(true), ev.cancel()), 10).action).toEqual({ kind: 'cancel', discardPartial: true });
  });
  it('someone else ended or superseded the attempt: write nothing more, whatever else came', () => {
    expect(catchUp(2, after(ev.timedOut(2)), 10).action).toEqual({ kind: 'superseded', why: 'timed-out of attempt 2' });
    expect(catchUp(2, after(ev.failed(2), ev.retryScheduled(3), ev.dispatched(3)), 10)).toEqual({
      lastSeq: 13,
      action: { kind: 'superseded', why: 'failed of attempt 2' },
    });
    expect(catchUp(2, after(ev.cancel(), ev.cancelled(2)), 10).action.kind).toBe('superseded');
    expect(catchUp(2, after(ev.dispatched(3), ev.cancel()), 10).action.kind).toBe('superseded');
  });
  it('its own terminal event, stored though its acknowledgement was lost, ends it too', () => {
    expect(catchUp(2, after(ev.completed(2)), 10).action.kind).toBe('superseded');
  });
});
