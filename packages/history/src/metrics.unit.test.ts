import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent, type TaskState } from '@errand/contracts';
import { foldBatch } from './fold.ts';
import { countEvent, type DeliveryOutcome, type MetricsSink } from './metrics.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const t = (id: string) => ({ taskId: id, tenant: 'acme' });

function submitted(id: string, type = 'demo.sleep'): ErrandEvent {
  return makeEvent('submitted', t(id), at(0), { user: 'u1', taskType: type, params: {}, priority: 5, timeoutMs: 1000, progressEveryMs: 1000, deliver: [] });
}
const started = (id: string, attempt: number, ms: number) => makeEvent('started', t(id), at(ms), { attempt, workerId: 'w' });
const failed = (id: string, attempt: number, ms: number, willRetry: boolean) =>
  makeEvent('failed', t(id), at(ms), { attempt, error: { code: 'boom', message: 'boom' }, willRetry });

/** Records what the fold counted, keyed like the Prometheus series. */
class Recorder implements MetricsSink {
  readonly counts = new Map<string, number>();
  readonly waits: number[] = [];
  readonly runs: number[] = [];
  private add(k: string, n = 1) {
    this.counts.set(k, (this.counts.get(k) ?? 0) + n);
  }
  submitted(tenant: string, type: string) { this.add(`submitted ${tenant} ${type}`); }
  finished(tenant: string, type: string, outcome: TaskState) { this.add(`finished ${tenant} ${type} ${outcome}`); }
  waited(_type: string, s: number) { this.waits.push(s); }
  ran(_type: string, s: number) { this.runs.push(s); }
  moved(tenant: string, from: TaskState | undefined, to: TaskState) {
    if (from) this.add(`tasks ${tenant} ${from}`, -1);
    this.add(`tasks ${tenant} ${to}`);
  }
  delivery(kind: string, outcome: DeliveryOutcome) { this.add(`delivery ${kind} ${outcome}`); }
}

function run(events: ErrandEvent[]): Recorder {
  const r = new Recorder();
  const { changes } = foldBatch(events.map((event, i) => ({ seq: i + 1, event })), new Map());
  for (const c of changes) countEvent(r, c.before, c.after, c.event);
  return r;
}

describe('countEvent: the /metrics fold', () => {
  it('counts a completed task once, its wait and its run', () => {
    const r = run([
      submitted('A'),
      makeEvent('queued', t('A'), at(1), { position: 0 }),
      makeEvent('dispatched', t('A'), at(2), { attempt: 1, pool: 'default' }),
      started('A', 1, 500),
      makeEvent('progress', t('A'), at(600), { attempt: 1, percent: 50 }),
      makeEvent('completed', t('A'), at(2500), { attempt: 1, result: 1 }),
      // a late terminal event of the same attempt changes nothing
      makeEvent('cancelled', t('A'), at(2600), { attempt: 1 }),
    ]);
    expect(r.counts.get('submitted acme demo.sleep')).toBe(1);
    expect(r.counts.get('finished acme demo.sleep completed')).toBe(1);
    expect(r.counts.get('finished acme demo.sleep cancelled')).toBeUndefined();
    expect(r.waits).toEqual([0.5]);
    expect(r.runs).toEqual([2]);
    expect(r.counts.get('tasks acme running')).toBe(0);
    expect(r.counts.get('tasks acme queued')).toBe(0);
  });

  it('a failed that will retry is not an end; the wait is observed once', () => {
    const r = run([
      submitted('B'),
      makeEvent('dispatched', t('B'), at(2), { attempt: 1, pool: 'default' }),
      started('B', 1, 100),
      failed('B', 1, 200, true),
      makeEvent('retry-scheduled', t('B'), at(200), { attempt: 2, notBefore: at(1200) }),
      makeEvent('dispatched', t('B'), at(1200), { attempt: 2, pool: 'default' }),
      started('B', 2, 1300),
      failed('B', 2, 1400, false),
    ]);
    expect(r.counts.get('finished acme demo.sleep failed')).toBe(1);
    expect(r.waits).toEqual([0.1]);
    expect(r.runs).toEqual([1.3]);
    expect(r.counts.get('tasks acme retrying')).toBe(0);
  });

  it("a user's retry reopens the task, and its next end counts again", () => {
    const r = run([
      submitted('C'),
      makeEvent('dispatched', t('C'), at(2), { attempt: 1, pool: 'default' }),
      started('C', 1, 100),
      makeEvent('cancelled', t('C'), at(300), { attempt: 1 }),
      makeEvent('retry-requested', t('C'), at(400), { by: 'api' }),
      makeEvent('retry-scheduled', t('C'), at(400), { attempt: 2, notBefore: at(400) }),
      makeEvent('dispatched', t('C'), at(410), { attempt: 2, pool: 'default' }),
      started('C', 2, 420),
      makeEvent('completed', t('C'), at(900), { attempt: 2, result: 1 }),
    ]);
    expect(r.counts.get('finished acme demo.sleep cancelled')).toBe(1);
    expect(r.counts.get('finished acme demo.sleep completed')).toBe(1);
    expect(r.waits).toHaveLength(1);
  });

  it('counts deliveries by kind and outcome, superseded apart from failed', () => {
    const target = { index: 0, kind: 'webhook' };
    const common = { of: 'progress', deliveryId: 'd', tries: 1 };
    const r = run([
      submitted('D'),
      makeEvent('delivered', t('D'), at(1), { target, ...common }),
      makeEvent('delivery-failed', t('D'), at(2), { target, ...common, error: 'superseded' }),
      makeEvent('delivery-failed', t('D'), at(3), { target, ...common, error: 'HTTP 500' }),
    ]);
    expect(r.counts.get('delivery webhook delivered')).toBe(1);
    expect(r.counts.get('delivery webhook superseded')).toBe(1);
    expect(r.counts.get('delivery webhook failed')).toBe(1);
  });

  it('a rejected task ends without a wait or a run', () => {
    const r = run([submitted('E'), makeEvent('rejected', t('E'), at(5), { code: 'queue_full', message: 'full' })]);
    expect(r.counts.get('finished acme demo.sleep rejected')).toBe(1);
    expect(r.waits).toEqual([]);
    expect(r.runs).toEqual([]);
    expect(r.counts.get('tasks acme submitted')).toBe(0);
  });
});
