/**
 * The error a task handler throws to say how it failed and whether another
 * attempt may help (Temporal's `ApplicationFailure`). A plain `Error` thrown
 * by a handler counts as retryable with code `handler_error`.
 */
export class TaskError extends Error {
  override name = 'TaskError';
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? true;
  }
}

/** Why a running handler's signal fired. */
export type AbortKind = 'cancel' | 'timeout' | 'superseded' | 'shutdown';

/** The `reason` of a handler's AbortSignal. */
export class TaskAbortedError extends Error {
  override name = 'TaskAbortedError';
  constructor(readonly kind: AbortKind, message: string) {
    super(message);
  }
}

/** `startWorker` refused its task types: `problems` says every reason, one sentence each. */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
  readonly code = 'invalid_task_types';
  readonly retryable = false;
  constructor(readonly problems: string[]) {
    super(`the worker cannot serve these task types:\n  - ${problems.join('\n  - ')}`);
  }
}
