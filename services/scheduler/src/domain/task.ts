import { isTerminalState, type ErrandEvent, type TaskRecord } from '@errand/contracts';

/**
 * What the scheduler keeps of one task that has not ended: what admission,
 * dispatch, supervision and retries read, and nothing else. The task's
 * params, delivery targets, metadata and progress stay in the log (a
 * dispatch reads the params back, `runtime.ts`); with 100,000 tasks queued
 * this is most of the scheduler's memory. Every task has the same shape (all
 * fields set, `undefined` when unknown), so V8 keeps them in one compact
 * hidden class, and `tenant`, `user`, `type` and `pool` are interned
 * (`Names`): one string per distinct name, not one per task.
 */
export interface SchedTask {
  id: string;
  tenant: string;
  user: string;
  type: string;
  priority: number;
  timeoutMs: number;
  state: TaskRecord['state'];
  /** the current attempt (0 before the first dispatch) */
  attempt: number;
  /** events of attempts below this are stale and change nothing */
  fence: number;
  pool: string | undefined;
  /** stream sequence of the current attempt's `dispatched` event */
  dispatchSeq: number | undefined;
  /** the current attempt's `started` (the timeout clock) */
  startedAt: string | undefined;
  cancelRequestedAt: string | undefined;
  discardPartial: boolean | undefined;
  notBefore: string | undefined;
  /** ref of the last checkpoint (a retry resumes from it) */
  checkpointRef: string | undefined;
  /** the last failure (a failed attempt's retry waits its backoff, a user's retry does not) */
  error: { code: string; message: string } | undefined;
  /** stream sequence of the task's last event (the optimistic concurrency check) */
  lastSeq: number;
  /** stream sequence of the `submitted` event: FIFO order */
  submitSeq: number;
}

/** One copy of each tenant, user, type and pool name, however many tasks carry it. */
export class Names {
  private readonly known = new Map<string, string>();
  of(s: string): string;
  of(s: string | undefined): string | undefined;
  of(s: string | undefined): string | undefined {
    if (s === undefined) return undefined;
    const k = this.known.get(s);
    if (k !== undefined) return k;
    this.known.set(s, s);
    return s;
  }
}

/** The scheduler's task from a full record (a snapshot, or a task read back from its history). */
export function schedTaskOf(r: Pick<TaskRecord, keyof SchedTask>, names: Names): SchedTask {
  return {
    id: r.id,
    tenant: names.of(r.tenant),
    user: names.of(r.user),
    type: names.of(r.type),
    priority: r.priority,
    timeoutMs: r.timeoutMs,
    state: r.state,
    attempt: r.attempt,
    fence: r.fence,
    pool: names.of(r.pool),
    dispatchSeq: r.dispatchSeq,
    startedAt: r.startedAt,
    cancelRequestedAt: r.cancelRequestedAt,
    discardPartial: r.discardPartial,
    notBefore: r.notBefore,
    checkpointRef: r.checkpointRef,
    error: r.error ? { code: r.error.code, message: r.error.message } : undefined,
    lastSeq: r.lastSeq,
    submitSeq: r.submitSeq,
  };
}

/** A task from its `submitted` event: params, delivery targets and metadata are left in the log. */
export function schedTaskFromSubmitted(e: Extract<ErrandEvent, { type: 'submitted' }>, seq: number, names: Names): SchedTask {
  return schedTaskOf(
    {
      id: e.taskId,
      tenant: e.tenant,
      user: e.user,
      type: e.taskType,
      priority: e.priority,
      timeoutMs: e.timeoutMs,
      state: 'submitted',
      attempt: 0,
      fence: 0,
      lastSeq: seq,
      submitSeq: seq,
    },
    names,
  );
}

const isStale = (t: SchedTask, attempt: number | undefined) => attempt !== undefined && attempt < t.fence;

/**
 * `applyTaskEvent` of contracts, restricted to the fields of `SchedTask`:
 * the same transitions under the same conditions, in place. Returns false
 * when the event was already applied.
 */
export function applySchedEvent(t: SchedTask, e: ErrandEvent, seq: number, names: Names): boolean {
  if (seq <= t.lastSeq) return false;
  const terminal = isTerminalState(t.state);
  t.lastSeq = seq;
  switch (e.type) {
    case 'queued':
      if (t.state === 'submitted') t.state = 'queued';
      return true;
    case 'rejected':
      if (terminal) return true;
      t.state = 'rejected';
      t.error = { code: e.code, message: e.message };
      return true;
    case 'dispatched':
      if (terminal || e.attempt < t.fence) return true;
      t.state = 'dispatched';
      t.attempt = e.attempt;
      t.fence = e.attempt;
      t.pool = names.of(e.pool);
      t.dispatchSeq = seq;
      t.startedAt = undefined;
      t.notBefore = undefined;
      return true;
    case 'started':
      if (terminal || isStale(t, e.attempt) || e.attempt !== t.attempt) return true;
      t.state = 'running';
      t.startedAt = e.at;
      return true;
    case 'checkpoint':
      if (terminal || isStale(t, e.attempt)) return true;
      t.checkpointRef = e.ref;
      return true;
    case 'cancel-requested':
      if (terminal) return true;
      t.cancelRequestedAt ??= e.at;
      t.discardPartial = e.discardPartial ?? t.discardPartial;
      return true;
    case 'retry-requested':
      if (!terminal || t.state === 'rejected' || t.state === 'completed') return true;
      t.state = 'retrying';
      t.fence = t.attempt + 1;
      t.cancelRequestedAt = undefined;
      t.discardPartial = undefined;
      t.error = undefined;
      t.notBefore = undefined;
      return true;
    case 'cancelled':
      if (!terminal && !isStale(t, e.attempt)) t.state = 'cancelled';
      return true;
    case 'timed-out':
      if (terminal || isStale(t, e.attempt)) return true;
      t.state = 'timed-out';
      t.error = { code: 'timed_out', message: `stopped after exceeding its time limit of ${e.timeoutMs} ms` };
      return true;
    case 'failed':
      if (terminal || isStale(t, e.attempt)) return true;
      t.error = e.error;
      if (e.willRetry) {
        t.state = 'retrying';
        t.fence = e.attempt + 1;
      } else {
        t.state = 'failed';
      }
      return true;
    case 'retry-scheduled':
      if (terminal || e.attempt < t.fence) return true;
      t.state = 'retrying';
      t.fence = e.attempt;
      t.notBefore = e.notBefore;
      return true;
    case 'completed':
      if (terminal || isStale(t, e.attempt)) return true;
      t.state = 'completed';
      t.error = undefined;
      return true;
    case 'submitted':
    case 'progress':
    case 'delivered':
    case 'delivery-failed':
      return true;
    default: {
      const never: never = e;
      return never;
    }
  }
}
