import { z } from 'zod';

/** The error codes of DESIGN.md with their HTTP status. */
export const ERROR_STATUS = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  unknown_type: 404,
  conflict: 409,
  too_large: 413,
  queue_full: 429,
  unavailable: 503,
  internal: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** An error with a stable code, a status, and whether trying again may help. */
export class ErrandError extends Error {
  override name = 'ErrandError';
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, opts: { details?: unknown; cause?: unknown; retryable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details;
    this.retryable = opts.retryable ?? (code === 'unavailable' || code === 'queue_full');
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** Turn a zod error into `details`: a list of {path, message}. */
export function zodDetails(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

export function invalid(message: string, err?: z.ZodError): ErrandError {
  return new ErrandError('invalid', message, err ? { details: zodDetails(err) } : {});
}

/**
 * What a part logs through: the services' logger (`@errand/runtime`) fits, and
 * so does any console-like object. Parts below the runtime (the lease, the log
 * watch) take this instead of depending on the runtime.
 */
export interface LogSink {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
