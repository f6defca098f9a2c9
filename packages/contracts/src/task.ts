import type { ErrandEvent } from './events.ts';
import type { StoredTarget } from './targets.ts';
import type { TaskState } from './submit.ts';
import { isTerminalState } from './submit.ts';

export interface DeliveryState {
  index: number;
  kind: string;
  name?: string;
  state: 'pending' | 'delivered' | 'failed';
  tries: number;
  lastError?: string;
}

/**
 * Everything the log says about one task: the fold every service shares.
 * `evolveTask` is pure, never throws, and ignores what does not concern it.
 */
export interface TaskRecord {
  id: string;
  tenant: string;
  user: string;
  type: string;
  params: unknown;
  priority: number;
  timeoutMs: number;
  progressEveryMs: number;
  deliver: StoredTarget[];
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
  state: TaskState;
  /** the current attempt (0 before the first dispatch) */
  attempt: number;
  /** events of attempts below this are stale and change nothing */
  fence: number;
  position?: number;
  pool?: string;
  progress: { percent: number; message?: string; etaMs?: number };
  createdAt: string;
  queuedAt?: string;
  dispatchedAt?: string;
  /** stream sequence of the current attempt's `dispatched` event */
  dispatchSeq?: number;
  /** the first `started` of the task (for waitMs) */
  firstStartedAt?: string;
  /** the current attempt's `started` (the timeout clock) */
  startedAt?: string;
  finishedAt?: string;
  cancelRequestedAt?: string;
  discardPartial?: boolean;
  notBefore?: string;
  result?: unknown;
  resultRef?: string;
  /** ref of the last checkpoint */
  checkpointRef?: string;
  checkpointPercent?: number;
  /** the partial result a terminal event offered */
  partialRef?: string;
  error?: { code: string; message: string };
  deliveries: DeliveryState[];
  /** stream sequence of the task's last event (the optimistic concurrency check) */
  lastSeq: number;
  /** stream sequence of the `submitted` event: FIFO order */
  submitSeq: number;
  eventCount: number;
}

/** Build a record from the task's `submitted` event. */
export function recordFromSubmitted(e: Extract<ErrandEvent, { type: 'submitted' }>, seq: number): TaskRecord {
  return {
    id: e.taskId,
    tenant: e.tenant,
    user: e.user,
    type: e.taskType,
    params: e.params,
    priority: e.priority,
    timeoutMs: e.timeoutMs,
    progressEveryMs: e.progressEveryMs,
    deliver: e.deliver,
    ...(e.metadata ? { metadata: e.metadata } : {}),
    ...(e.idempotencyKey ? { idempotencyKey: e.idempotencyKey } : {}),
    state: 'submitted',
    attempt: 0,
    fence: 0,
    progress: { percent: 0 },
    createdAt: e.at,
    deliveries: e.deliver.map((t, index) => ({
      index,
      kind: t.kind,
      ...(t.name ? { name: t.name } : {}),
      state: 'pending' as const,
      tries: 0,
    })),
    lastSeq: seq,
    submitSeq: seq,
    eventCount: 1,
  };
}

function isStale(r: TaskRecord, attempt: number | undefined): boolean {
  return attempt !== undefined && attempt < r.fence;
}

/**
 * Apply one event. `seq` is the event's stream sequence. A record that does
 * not exist yet is created only by `submitted`; anything else returns
 * `undefined` then (the caller logs it). Pure: `r` is not changed.
 */
export function evolveTask(r: TaskRecord | undefined, e: ErrandEvent, seq: number): TaskRecord | undefined {
  if (!r) return e.type === 'submitted' ? recordFromSubmitted(e, seq) : undefined;
  if (seq <= r.lastSeq) return r; // replayed twice: nothing new
  const next = { ...r };
  applyTaskEvent(next, e, seq);
  return next;
}

/**
 * The same fold, changing `r` in place: for a scheduler replaying millions of
 * events, where a copy per event costs more than the rest of the fold.
 * Returns false when the event was already applied.
 */
export function applyTaskEvent(r: TaskRecord, e: ErrandEvent, seq: number): boolean {
  if (seq <= r.lastSeq) return false;
  const terminal = isTerminalState(r.state);
  r.lastSeq = seq;
  r.eventCount++;
  switch (e.type) {
    case 'submitted':
      return true;
    case 'queued':
      if (r.state !== 'submitted') return true;
      r.state = 'queued';
      r.position = e.position;
      r.queuedAt = e.at;
      return true;
    case 'rejected':
      if (terminal) return true;
      r.state = 'rejected';
      r.error = { code: e.code, message: e.message };
      r.finishedAt = e.at;
      r.position = undefined;
      return true;
    case 'dispatched':
      if (terminal || e.attempt < r.fence) return true;
      r.state = 'dispatched';
      r.attempt = e.attempt;
      r.fence = e.attempt;
      r.pool = e.pool;
      r.dispatchedAt = e.at;
      r.dispatchSeq = seq;
      r.position = undefined;
      r.startedAt = undefined;
      r.notBefore = undefined;
      return true;
    case 'started':
      if (terminal || isStale(r, e.attempt) || e.attempt !== r.attempt) return true;
      r.state = 'running';
      r.startedAt = e.at;
      r.firstStartedAt ??= e.at;
      return true;
    case 'progress':
      if (terminal || isStale(r, e.attempt) || e.attempt !== r.attempt) return true;
      r.progress = {
        percent: e.percent,
        ...(e.message !== undefined ? { message: e.message } : {}),
        ...(e.etaMs !== undefined ? { etaMs: e.etaMs } : {}),
      };
      return true;
    case 'checkpoint':
      if (terminal || isStale(r, e.attempt)) return true;
      r.checkpointRef = e.ref;
      if (e.percent !== undefined) r.checkpointPercent = e.percent;
      return true;
    case 'cancel-requested':
      if (terminal) return true;
      r.cancelRequestedAt ??= e.at;
      r.discardPartial = e.discardPartial ?? r.discardPartial;
      return true;
    case 'retry-requested':
      if (!terminal || r.state === 'rejected' || r.state === 'completed') return true;
      r.state = 'retrying';
      r.fence = r.attempt + 1;
      r.finishedAt = undefined;
      r.cancelRequestedAt = undefined;
      r.discardPartial = undefined;
      r.error = undefined;
      r.partialRef = undefined;
      r.notBefore = undefined;
      return true;
    case 'cancelled':
      if (terminal || isStale(r, e.attempt)) return true;
      r.state = 'cancelled';
      r.finishedAt = e.at;
      r.position = undefined;
      r.partialRef = e.partial;
      return true;
    case 'timed-out':
      if (terminal || isStale(r, e.attempt)) return true;
      r.state = 'timed-out';
      r.finishedAt = e.at;
      r.partialRef = e.partial;
      r.error = { code: 'timed_out', message: `stopped after exceeding its time limit of ${e.timeoutMs} ms` };
      return true;
    case 'failed':
      if (terminal || isStale(r, e.attempt)) return true;
      r.error = e.error;
      if (e.willRetry) {
        r.state = 'retrying';
        r.fence = e.attempt + 1;
      } else {
        r.state = 'failed';
        r.finishedAt = e.at;
        r.partialRef = r.checkpointRef;
      }
      return true;
    case 'retry-scheduled':
      if (terminal || e.attempt < r.fence) return true;
      r.state = 'retrying';
      r.fence = e.attempt;
      r.notBefore = e.notBefore;
      return true;
    case 'completed':
      if (terminal || isStale(r, e.attempt)) return true;
      r.state = 'completed';
      r.finishedAt = e.at;
      r.result = e.result;
      if (e.resultRef) r.resultRef = e.resultRef;
      r.error = undefined;
      r.progress = { ...r.progress, percent: 100, etaMs: 0 };
      return true;
    case 'delivered':
    case 'delivery-failed': {
      // a target's state is that of its latest message: tries of that message, its error if it failed
      const target = e.target.index;
      r.deliveries = r.deliveries.map((d) => {
        if (d.index !== target) return d;
        const { lastError: _old, ...rest } = d;
        return {
          ...rest,
          tries: e.tries,
          state: e.type === 'delivered' ? ('delivered' as const) : ('failed' as const),
          ...(e.type === 'delivery-failed' && e.error ? { lastError: e.error } : {}),
        };
      });
      return true;
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}
