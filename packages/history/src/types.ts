/**
 * The history store: the event log projected into PostgreSQL (a server at
 * ERRAND_DATABASE_URL, or PGlite embedded in the data folder). One elected
 * projector writes it in batches (`apply`); every intake reads it.
 */
import type { ErrandEvent, TaskRecord, TaskState } from '@errand/contracts';

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 1000;

export interface ListFilter {
  state?: TaskState;
  user?: string;
  type?: string;
  limit?: number;
  cursor?: string;
}

export interface ListPage {
  items: TaskRecord[];
  nextCursor: string | null;
}

export interface TypeMetrics {
  type: string;
  completionMs: { count: number; avg: number | null; p50: number | null; p95: number | null };
  queueWaitMs: { count: number; avg: number | null; p95: number | null };
  /** (failed + timed-out) / terminal, over the window of terminal outcomes */
  failureRate: number | null;
  terminal: number;
}

/** What a task looked like before an event was folded. */
export interface Before {
  state: TaskState;
  firstStartedAt?: string | undefined;
}

/** One folded event: the task's state before it (undefined for a new task), its record after it. */
export interface TaskChange {
  before: Before | undefined;
  after: TaskRecord;
  event: ErrandEvent;
  seq: number;
}

/** One message of the log: its event, or undefined when it was not a valid event (skipped, its sequence still counts). */
export interface LogItem {
  seq: number;
  event: ErrandEvent | undefined;
}

/** The `/metrics` series the store keeps (DESIGN.md "Seeing the system"). */
export interface MetricsSnapshot {
  /** errand_tasks_submitted_total */
  submitted: { tenant: string; type: string; value: number }[];
  /** errand_tasks_finished_total */
  finished: { tenant: string; type: string; outcome: TaskState; value: number }[];
  /** errand_deliveries_total */
  deliveries: { kind: string; outcome: string; value: number }[];
  /** errand_task_wait_seconds / errand_task_run_seconds: cumulative bucket counts (le = upper bound, +Inf last), sum, count */
  wait: HistogramSeries[];
  run: HistogramSeries[];
  /** errand_tasks: every tenant ever seen × every non-terminal state (0 included) */
  tasks: { tenant: string; state: TaskState; value: number }[];
}

export interface HistogramSeries {
  type: string;
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** A batch was written by a projector that is no longer the writer (another applied first). */
export class StaleProjectorError extends Error {
  override name = 'StaleProjectorError';
}

/** The cursor's error: the caller maps it to `invalid`. */
export class BadCursor extends Error {
  override name = 'BadCursor';
}

/** A task `expire` removed from the store. */
export interface ExpiredTask {
  tenant: string;
  id: string;
  resultBlob: boolean;
  checkpointAttempts: number;
}

export interface HistoryStore {
  /** 'postgres' (ERRAND_DATABASE_URL) or 'embedded' (PGlite in the data folder) */
  readonly kind: 'postgres' | 'embedded';
  /** where it is, for logs: the URL without password, or the folder */
  readonly where: string;

  /** The identity of the log this store projects (set by `reset`); undefined for a new store. */
  logIdentity(): Promise<string | undefined>;
  /** Forget every task and counter and bind the store to the log `identity`, applied sequence 0. */
  reset(identity: string): Promise<void>;
  /** The last log sequence folded (or skipped), 0 for none. */
  appliedSeq(): Promise<number>;

  /**
   * Fold `items` (ascending sequences, all above `appliedSeq()`) in one
   * transaction: task rows, counters, histograms, and the applied sequence,
   * which becomes `upTo` (>= the last item's seq). `expectedSeq` is the
   * applied sequence the writer last saw: when the store's differs, nothing
   * is written and StaleProjectorError is thrown. Returns the changes, in order.
   */
  apply(items: LogItem[], upTo: number, expectedSeq: number): Promise<TaskChange[]>;

  getTask(tenant: string, id: string): Promise<TaskRecord | undefined>;
  /** Newest first (by submitSeq), filtered, one page at a time; a foreign cursor throws BadCursor. */
  list(tenant: string, filter?: ListFilter): Promise<ListPage>;
  /** Per type of the tenant (or only `type`), over the newest 1,000 of each window. */
  typeMetrics(tenant: string, type?: string): Promise<TypeMetrics[]>;
  metrics(): Promise<MetricsSnapshot>;

  /**
   * Remove up to `limit` tasks that ended before `before`; returns which (the caller purges their
   * log subjects and their blobs): whether a result was stored as a blob, and the attempts whose
   * checkpoints may be left (0 when the task never kept one).
   */
  expire(before: Date, limit: number): Promise<ExpiredTask[]>;

  close(): Promise<void>;
}
