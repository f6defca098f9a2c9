import type { ErrandEvent, ListQuery, TaskState, TaskView } from '@errand/contracts';

export type { ErrandEvent, ListQuery, SubmitBody, TaskState, TaskView, TargetInput } from '@errand/contracts';

/** The answer to a submit. */
export interface Accepted {
  id: string;
  state: TaskState;
  position?: number;
}

/** The answer to a batch submit: one item per task, in the order given. */
export interface BatchAnswer {
  items: (Accepted | { error: { code: string; message: string; details?: unknown } })[];
}

export interface TaskList {
  items: TaskView[];
  nextCursor: string | null;
}

export interface CancelOptions {
  reason?: string;
  /** drop the last intermediate result instead of keeping it as the partial result */
  discardPartial?: boolean;
}

export interface TaskResult {
  id: string;
  state: TaskState;
  /** true when this is the partial result of a task that did not complete */
  partial: boolean;
  result: unknown;
}

export interface TaskTypeListing {
  items: {
    name: string;
    description?: string;
    paramsSchema: Record<string, unknown>;
    pool: string;
    defaults: { timeoutMs: number; priority: number; maxAttempts: number; progressEveryMs?: number };
    observedDurationMs?: { count: number; avg: number | null; p50: number | null; p95: number | null };
  }[];
}

/** `GET /v1/metrics/summary`; its inner shape is the intake's. */
export interface MetricsSummary {
  byType: Record<string, Record<string, unknown>>;
}

/** One event seen while watching a task. */
export interface WatchedEvent {
  /** the event's stream sequence (HTTP watch); undefined over core NATS */
  seq: number | undefined;
  event: ErrandEvent;
}

export type ListOptions = ListQuery;

/** One message of the live task list (`ErrandClient.changes`). */
export type TaskChange = { kind: 'task'; view: TaskView } | { kind: 'resync' };
