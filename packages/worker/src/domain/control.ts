import type { ErrandEvent } from '@errand/contracts';

/** What a running attempt does about an event of its task. */
export type ControlAction =
  | { kind: 'ignore' }
  /** abort the handler, then write `cancelled` (without `partial` when discarded) */
  | { kind: 'cancel'; discardPartial: boolean }
  /** abort the handler and write nothing more: someone else ended or superseded the attempt */
  | { kind: 'superseded'; why: string };

const IGNORE: ControlAction = { kind: 'ignore' };
const superseded = (why: string): ControlAction => ({ kind: 'superseded', why });

/**
 * Decide on one event seen on the task's subject while attempt `attempt` runs
 * (INTERNALS.md "Control of a running task"), by the rules of the task fold
 * (`applyTaskEvent`): the worker's own events are ignored, events of older
 * attempts are fenced off, and whatever ends the task or moves it to a later
 * attempt supersedes this one.
 */
export function controlAction(attempt: number, e: ErrandEvent): ControlAction {
  switch (e.type) {
    case 'cancel-requested': // the intake; the worker still writes `cancelled` itself
      return { kind: 'cancel', discardPartial: e.discardPartial === true };
    case 'dispatched': // the scheduler (a retry); a later attempt's worker
    case 'started':
    case 'progress':
    case 'checkpoint':
    case 'retry-scheduled':
      return e.attempt > attempt ? superseded(`${e.type} of attempt ${e.attempt}`) : IGNORE;
    case 'failed': // of its own attempt and not written by this worker: the scheduler gave up on it (worker_lost)
    case 'completed':
    case 'timed-out': // the scheduler's deadline (timeout + slack)
      return e.attempt >= attempt ? superseded(`${e.type} of attempt ${e.attempt}`) : IGNORE;
    case 'cancelled': // the scheduler, once the cancel grace period is over
      return e.attempt !== undefined && e.attempt < attempt ? IGNORE : superseded(`cancelled${e.attempt ? ` of attempt ${e.attempt}` : ''}`);
    case 'rejected':
      return superseded('rejected');
    case 'submitted': // a task's first event: never after `started`
    case 'queued': // changes nothing once the task was dispatched
    case 'retry-requested': // changes nothing unless a terminal event came first (and that one decided)
    case 'delivered': // the notifier's records
    case 'delivery-failed':
      return IGNORE;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** The verdict on the events stored after the last sequence a running attempt knew. */
export interface CatchUp {
  /** the subject's last sequence as the attempt now knows it: the next write's expected one */
  lastSeq: number;
  /** `superseded` when any of them ends the attempt (the first), else `cancel` when one asks for it, else `ignore` */
  action: ControlAction;
}

/**
 * Judge the events stored after `knownSeq` (INTERNALS.md "Control of a
 * running task"): every write of a running attempt expects the subject's
 * last sequence to be the one it knows, so it is refused after anyone
 * else's event, and this says whether to write again (`ignore`, `cancel`:
 * the attempt still writes, `cancelled` last) or never more (`superseded`).
 * A supersession wins over a cancel, wherever it comes.
 */
export function catchUp(attempt: number, after: readonly { seq: number; event: ErrandEvent }[], knownSeq: number): CatchUp {
  let lastSeq = knownSeq;
  let stop: ControlAction | undefined;
  let cancelled = false;
  let discardPartial: boolean | undefined;
  for (const { seq, event } of after) {
    lastSeq = Math.max(lastSeq, seq);
    const a = controlAction(attempt, event);
    if (a.kind === 'superseded') stop ??= a;
    else if (a.kind === 'cancel' && event.type === 'cancel-requested') {
      cancelled = true;
      discardPartial = event.discardPartial ?? discardPartial; // as the fold reads it: the last one that says
    }
  }
  if (stop) return { lastSeq, action: stop };
  return { lastSeq, action: cancelled ? { kind: 'cancel', discardPartial: discardPartial === true } : IGNORE };
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
