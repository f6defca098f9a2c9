import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import { deliveryId as deliveryIdOf, parseDeliveryId } from '@errand/contracts';
import { applyEvent, memoFromHistory, planDeliveries, type Seen } from './memo.ts';

const task = { taskId: 'T-1', tenant: 't' };
const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
const submitted = makeEvent('submitted', task, at(0), {
  user: 'u',
  taskType: 'demo.report',
  params: {},
  priority: 5,
  timeoutMs: 60_000,
  progressEveryMs: 10_000,
  deliver: [{ kind: 'nats', subject: 'errand.notify.t.x' }, { kind: 'memory' }],
});
const started = makeEvent('started', task, at(1), { attempt: 1, workerId: 'w' });
const dispatched = makeEvent('dispatched', task, at(1), { attempt: 1, pool: 'default' });
const progress = (s: number, percent: number) => makeEvent('progress', task, at(s), { attempt: 1, percent });
const completed = (s: number) => makeEvent('completed', task, at(s), { attempt: 1, result: 'ok' });
const delivered = (seq: number, index: number, of: string) =>
  makeEvent('delivered', task, at(99), { target: { index, kind: 'nats' }, of, deliveryId: deliveryIdOf('T-1', seq, index), tries: 1 });

/** given the history (seq = position + 1), when event `seq` arrives: the planned delivery ids */
function plan(history: ErrandEvent[], next: ErrandEvent, laterWaiting = false): string[] {
  const seen: Seen[] = history.map((event, i) => ({ seq: i + 1, event }));
  const nextSeen = { seq: history.length + 1, event: next };
  const memo = memoFromHistory([...seen, nextSeen], nextSeen.seq)!;
  const fold = applyEvent(memo, nextSeen);
  return planDeliveries(memo, nextSeen, fold, { laterWaiting }).map((p) => p.deliveryId);
}

describe('delivery ids', () => {
  it('round-trip, task ids with dashes included', () => {
    expect(parseDeliveryId(deliveryIdOf('T-1', 12, 3))).toEqual({ taskId: 'T-1', seq: 12, index: 3 });
  });
});

describe('planDeliveries', () => {
  const base = [submitted, dispatched, started];
  it('sends the first progress to every target except memory', () => {
    expect(plan(base, progress(2, 10))).toEqual(['T-1-4-0']);
  });
  it('throttles progress per target to one per progressEveryMs (by event time)', () => {
    expect(plan([...base, progress(2, 10), delivered(4, 0, 'progress')], progress(5, 20))).toEqual([]);
    expect(plan([...base, progress(2, 10), delivered(4, 0, 'progress')], progress(12, 20))).toEqual(['T-1-6-0']);
  });
  it('drops a progress when a later delivery event already waits', () => {
    expect(plan(base, progress(2, 10), true)).toEqual([]);
  });
  it('sends the final to every target, memory included, and never twice', () => {
    expect(plan([...base, progress(2, 10)], completed(3))).toEqual(['T-1-5-0', 'T-1-5-1']);
    // already recorded (a record of a later sequence, read from the whole history)
    const h = [...base, completed(3)].map((event, i) => ({ seq: i + 1, event }));
    const all = [...h, { seq: 5, event: delivered(4, 0, 'completed') }];
    const memo = memoFromHistory(all, 4)!;
    const fold = applyEvent(memo, h[3]!);
    expect(planDeliveries(memo, h[3]!, fold, { laterWaiting: false }).map((p) => p.deliveryId)).toEqual(['T-1-4-1']);
  });
  it('a second terminal event changes nothing and is not delivered', () => {
    expect(plan([...base, completed(3)], makeEvent('cancelled', task, at(4), { attempt: 1 }))).toEqual([]);
  });
  it('skips stale progress of an old attempt and a target disabled by 410', () => {
    const gone = makeEvent('delivery-failed', task, at(9), {
      target: { index: 0, kind: 'webhook' },
      of: 'progress',
      deliveryId: deliveryIdOf('T-1', 4, 0),
      tries: 1,
      error: 'HTTP 410 Gone: target disabled for this task',
    });
    expect(plan([...base, progress(2, 10), gone], completed(20))).toEqual(['T-1-6-1']);
    const retry = makeEvent('dispatched', task, at(3), { attempt: 2, pool: 'default' });
    expect(plan([...base, retry], progress(4, 50))).toEqual([]);
  });
  it('tasks without targets get nothing', () => {
    const none = { ...submitted, deliver: [] };
    expect(plan([none, dispatched, started], completed(3))).toEqual([]);
  });
});
