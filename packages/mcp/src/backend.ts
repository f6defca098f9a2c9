import type { ListQuery, SubmitBody, TaskState, TaskView } from '@errand/contracts';

/** A task type as the MCP server needs it (a subset of `GET /v1/task-types` items). */
export interface TaskTypeEntry {
  name: string;
  description?: string;
  paramsSchema: Record<string, unknown>;
  /** false while no live worker serves it (absent: live) */
  live?: boolean;
  observedDurationMs?: { count: number; avg: number | null; p50: number | null; p95: number | null };
}

/** What a submit, cancel or retry answers. */
export interface TaskHandle {
  id: string;
  state: TaskState;
  position?: number;
}

/**
 * The Errand operations the MCP server runs on, for one tenant: the intake
 * implements it over its own operations, `@errand/client` over HTTP. Failures
 * are errors with a string `code` (the API's error codes) and a `message`.
 */
export interface ErrandBackend {
  submit(body: SubmitBody): Promise<TaskHandle>;
  /** the task view, with its result or partial result when it has one */
  get(id: string): Promise<TaskView>;
  /**
   * The task's view now, then again each time it changes, until it ends
   * (the last view yielded is terminal) or `signal` aborts.
   */
  follow(id: string, signal: AbortSignal): AsyncIterable<TaskView>;
  cancel(id: string, opts: { reason?: string }): Promise<TaskHandle>;
  retry(id: string): Promise<TaskHandle>;
  list(query: ListQuery): Promise<{ items: TaskView[]; nextCursor: string | null }>;
  taskTypes(): Promise<TaskTypeEntry[]>;
  /** Call `listener` when the task types (or their liveness) may have changed; returns the unsubscribe. */
  onTypesChange(listener: () => void): () => void;
}

/** The code and message of whatever a backend threw. */
export function errorOf(err: unknown): { code: string; message: string; details?: unknown } {
  const e = err as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : 'internal';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return { code, message, ...(e?.details !== undefined ? { details: e.details } : {}) };
}
