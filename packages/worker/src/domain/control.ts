import { isTerminalEvent, type ErrandEvent } from '@errand/contracts';

/** What a running attempt does about an event of its task. */
export type ControlAction =
  | { kind: 'ignore' }
  /** abort the handler, then write `cancelled` (without `partial` when discarded) */
  | { kind: 'cancel'; discardPartial: boolean }
  /** abort the handler and write nothing more: someone else ended or superseded the attempt */
  | { kind: 'superseded'; why: string };

const IGNORE: ControlAction = { kind: 'ignore' };

/**
 * Decide on one event seen on the task's subject while attempt `attempt` runs
 * (INTERNALS.md "Control of a running task"). The worker's own events
 * (started, progress, checkpoint) are ignored; events of older attempts are
 * fenced off.
 */
export function controlAction(attempt: number, e: ErrandEvent): ControlAction {
  switch (e.type) {
    case 'cancel-requested':
      return { kind: 'cancel', discardPartial: e.discardPartial === true };
    case 'dispatched':
    case 'started':
    case 'retry-scheduled':
      return e.attempt > attempt ? { kind: 'superseded', why: `${e.type} of attempt ${e.attempt}` } : IGNORE;
    case 'failed':
      // a failed of its own attempt that this worker did not write: the scheduler gave up on it
      return e.attempt >= attempt ? { kind: 'superseded', why: `failed of attempt ${e.attempt}` } : IGNORE;
    case 'completed':
    case 'timed-out':
    case 'cancelled':
    case 'rejected': {
      const of = 'attempt' in e ? e.attempt : undefined;
      if (of !== undefined && of < attempt) return IGNORE;
      return isTerminalEvent(e) ? { kind: 'superseded', why: `${e.type} written` } : IGNORE;
    }
    default:
      return IGNORE;
  }
}

/** Event types that may change a running attempt's fate: only these are worth a history read. */
export function mayControl(type: string): boolean {
  return (
    type === 'cancel-requested' ||
    type === 'dispatched' ||
    type === 'retry-scheduled' ||
    type === 'failed' ||
    type === 'completed' ||
    type === 'timed-out' ||
    type === 'cancelled' ||
    type === 'rejected' ||
    type === 'started'
  );
}

export type StartDecision = { kind: 'retry'; lastSeq: number } | { kind: 'drop'; why: string };

/**
 * After `started` was refused (wrong last sequence): given the events after
 * `dispatchSeq`, start again only when the task is still `dispatched` at this
 * attempt with no cancel requested (INTERNALS.md "Dispatch and start").
 */
export function decideAfterConflict(
  attempt: number,
  after: { seq: number; event: ErrandEvent }[],
  dispatchSeq: number,
): StartDecision {
  let lastSeq = dispatchSeq;
  for (const { seq, event: e } of after) {
    lastSeq = Math.max(lastSeq, seq);
    if (e.type === 'started' && e.attempt >= attempt) return { kind: 'drop', why: `attempt ${e.attempt} already started` };
    if (e.type === 'retry-requested') return { kind: 'drop', why: 'a retry was requested' };
    const a = controlAction(attempt, e);
    if (a.kind === 'cancel') return { kind: 'drop', why: 'cancel requested before start' };
    if (a.kind === 'superseded') return { kind: 'drop', why: a.why };
  }
  return { kind: 'retry', lastSeq };
}
