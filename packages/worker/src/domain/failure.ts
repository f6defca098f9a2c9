/** How a handler's failure is reported: `failed {error: {code, message}, willRetry}`. */
export interface FailureInfo {
  code: string;
  message: string;
  retryable: boolean;
}

const MAX_MESSAGE = 4000;

/**
 * Classify what a handler threw. Errors with a string `code` and a boolean
 * `retryable` (TaskError) say it themselves; a zod error is bad params (never
 * retryable); anything else is a retryable `handler_error`.
 */
export function classifyFailure(err: unknown): FailureInfo {
  const e = err as { name?: unknown; code?: unknown; retryable?: unknown; message?: unknown } | undefined;
  const message = String(e?.message ?? err ?? 'unknown error').slice(0, MAX_MESSAGE);
  if (e && typeof e.code === 'string' && typeof e.retryable === 'boolean' && e.code.length > 0) {
    return { code: e.code.slice(0, 100), message, retryable: e.retryable };
  }
  if (e?.name === 'ZodError') return { code: 'invalid_params', message, retryable: false };
  return { code: 'handler_error', message, retryable: true };
}

export function willRetry(f: FailureInfo, attempt: number, maxAttempts: number): boolean {
  return f.retryable && attempt < maxAttempts;
}
