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
 * `undefined` then (the caller logs it).
 */
export function evolveTask(r: TaskRecord | undefined, e: ErrandEvent, seq: number): TaskRecord | undefined {
  if (!r) return e.type === 'submitted' ? recordFromSubmitted(e, seq) : undefined;
  if (seq <= r.lastSeq) return r; // replayed twice: nothing new
  const next: TaskRecord = { ...r, lastSeq: seq, eventCount: r.eventCount + 1 };
  const terminal = isTerminalState(r.state);
  switch (e.type) {
    case 'submitted':
      return next;
    case 'queued':
      if (r.state !== 'submitted') return next;
      return { ...next, state: 'queued', position: e.position, queuedAt: e.at };
    case 'rejected':
      if (terminal) return next;
      return { ...next, state: 'rejected', error: { code: e.code, message: e.message }, finishedAt: e.at, position: undefined };
    case 'dispatched':
      if (terminal || e.attempt < r.fence) return next;
      return {
        ...next,
        state: 'dispatched',
        attempt: e.attempt,
        fence: e.attempt,
        pool: e.pool,
        dispatchedAt: e.at,
        dispatchSeq: seq,
        position: undefined,
        startedAt: undefined,
        notBefore: undefined,
      };
    case 'started':
      if (terminal || isStale(r, e.attempt) || e.attempt !== r.attempt) return next;
      return { ...next, state: 'running', startedAt: e.at, firstStartedAt: r.firstStartedAt ?? e.at };
    case 'progress':
      if (terminal || isStale(r, e.attempt) || e.attempt !== r.attempt) return next;
      return {
        ...next,
        progress: {
          percent: e.percent,
          ...(e.message !== undefined ? { message: e.message } : {}),
          ...(e.etaMs !== undefined ? { etaMs: e.etaMs } : {}),
        },
      };
    case 'checkpoint':
      if (terminal || isStale(r, e.attempt)) return next;
      return { ...next, checkpointRef: e.ref, ...(e.percent !== undefined ? { checkpointPercent: e.percent } : {}) };
    case 'cancel-requested':
      if (terminal) return next;
      return { ...next, cancelRequestedAt: r.cancelRequestedAt ?? e.at, discardPartial: e.discardPartial ?? r.discardPartial };
    case 'retry-requested':
      if (!terminal || r.state === 'rejected' || r.state === 'completed') return next;
      return {
        ...next,
        state: 'retrying',
        fence: r.attempt + 1,
        finishedAt: undefined,
        cancelRequestedAt: undefined,
        discardPartial: undefined,
        error: undefined,
        partialRef: undefined,
        notBefore: undefined,
      };
    case 'cancelled':
      if (terminal || isStale(r, e.attempt)) return next;
      return { ...next, state: 'cancelled', finishedAt: e.at, position: undefined, partialRef: e.partial };
    case 'timed-out':
      if (terminal || isStale(r, e.attempt)) return next;
      return {
        ...next,
        state: 'timed-out',
        finishedAt: e.at,
        partialRef: e.partial,
        error: { code: 'timed_out', message: `stopped after exceeding its time limit of ${e.timeoutMs} ms` },
      };
    case 'failed':
      if (terminal || isStale(r, e.attempt)) return next;
      if (e.willRetry) return { ...next, state: 'retrying', error: e.error, fence: e.attempt + 1 };
      return { ...next, state: 'failed', error: e.error, finishedAt: e.at, partialRef: r.checkpointRef };
    case 'retry-scheduled':
      if (terminal || e.attempt < r.fence) return next;
      return { ...next, state: 'retrying', fence: e.attempt, notBefore: e.notBefore };
    case 'completed':
      if (terminal || isStale(r, e.attempt)) return next;
      return {
        ...next,
        state: 'completed',
        finishedAt: e.at,
        result: e.result,
        ...(e.resultRef ? { resultRef: e.resultRef } : {}),
        error: undefined,
        progress: { ...r.progress, percent: 100, etaMs: 0 },
      };
    case 'delivered':
    case 'delivery-failed': {
      const deliveries = r.deliveries.map((d) =>
        d.index !== e.target.index
          ? d
          : {
              ...d,
              tries: d.tries + e.tries,
              state: e.type === 'delivered' ? ('delivered' as const) : ('failed' as const),
              ...(e.error ? { lastError: e.error } : {}),
            },
      );
      return { ...next, deliveries };
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}
