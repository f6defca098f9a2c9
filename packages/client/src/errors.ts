import type { ErrorCode } from '@errand/contracts';

/** Codes the client itself produces, beside the server's (DESIGN.md "Errors"). */
export type ClientErrorCode = ErrorCode | 'network' | 'timeout' | 'bad_response';

/**
 * An error answered by Errand (`{error: {code, message, details?}}`), or met
 * on the way to it. `code` is stable: branch on it, not on the message.
 */
export class ErrandClientError extends Error {
  override name = 'ErrandClientError';
  readonly code: ClientErrorCode | (string & {});
  /** HTTP status, when the error came over HTTP */
  readonly status: number | undefined;
  readonly details: unknown;
  /** true when the same request may succeed later */
  readonly retryable: boolean;
  constructor(
    code: ClientErrorCode | (string & {}),
    message: string,
    opts: { status?: number; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status;
    this.details = opts.details;
    this.retryable = ['unavailable', 'queue_full', 'network', 'timeout'].includes(code) || (opts.status ?? 0) >= 500;
  }
}

/** True when `err` is an ErrandClientError (with that code, if given). */
export function isErrandError(err: unknown, code?: string): err is ErrandClientError {
  return err instanceof ErrandClientError && (code === undefined || err.code === code);
}

/** Turn a parsed error body into an ErrandClientError, or undefined when it is not one. */
export function fromErrorBody(body: unknown, status?: number): ErrandClientError | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const e = (body as { error: unknown }).error;
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, message, details } = e as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== 'string') return undefined;
  return new ErrandClientError(code, typeof message === 'string' ? message : code, {
    ...(status !== undefined ? { status } : {}),
    ...(details !== undefined ? { details } : {}),
  });
}
