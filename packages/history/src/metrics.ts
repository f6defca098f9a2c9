import { isTerminalState, type ErrandEvent, type TaskRecord, type TaskState } from '@errand/contracts';
import type { Before } from './types.ts';

/** Where the fold's counts go (the store's per-batch deltas, or a test's recorder). */
export interface MetricsSink {
  submitted(tenant: string, type: string): void;
  /** a task reached a terminal state (again, after a user's retry) */
  finished(tenant: string, type: string, outcome: TaskState): void;
  /** submitted → first started, once per task */
  waited(type: string, seconds: number): void;
  /** first started → end, at each end */
  ran(type: string, seconds: number): void;
  /** the task left `from` (undefined for a new task) for `to` */
  moved(tenant: string, from: TaskState | undefined, to: TaskState): void;
  delivery(kind: string, outcome: DeliveryOutcome): void;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'superseded';

const seconds = (from: string, to: string): number | undefined => {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, ms) / 1000 : undefined;
};

/**
 * Count one folded event: called with the task's state before the event and
 * its record after it, for every event the store applies, so the totals are
 * the same whoever folds the log. A terminal state
 * counts when it is entered (a `failed` that will retry leaves the task
 * `retrying`, not ended; a user's retry reopens it, so its next end counts
 * again); the wait is observed when the first `started` is folded.
 */
export function countEvent(sink: MetricsSink, before: Before | undefined, after: TaskRecord, e: ErrandEvent): void {
  if (!before) {
    sink.submitted(after.tenant, after.type);
    sink.moved(after.tenant, undefined, after.state);
  } else if (before.state !== after.state) {
    sink.moved(after.tenant, before.state, after.state);
  }
  if (!before?.firstStartedAt && after.firstStartedAt) {
    const s = seconds(after.createdAt, after.firstStartedAt);
    if (s !== undefined) sink.waited(after.type, s);
  }
  const ended = isTerminalState(after.state) && (before === undefined || !isTerminalState(before.state));
  if (ended) {
    sink.finished(after.tenant, after.type, after.state);
    if (after.firstStartedAt && after.finishedAt) {
      const s = seconds(after.firstStartedAt, after.finishedAt);
      if (s !== undefined) sink.ran(after.type, s);
    }
  }
  if (e.type === 'delivered') sink.delivery(e.target.kind, 'delivered');
  else if (e.type === 'delivery-failed') sink.delivery(e.target.kind, e.error === 'superseded' ? 'superseded' : 'failed');
}
