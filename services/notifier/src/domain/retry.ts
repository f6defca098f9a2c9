/**
 * When to try a delivery again. Pure: the random number and the clock come in
 * as arguments.
 */

/** The longest a `Retry-After` may push a try back. */
export const MAX_RETRY_AFTER_MS = 3_600_000;
/** ± share of each delay chosen at random, so that retries of many tasks do not arrive together. */
export const JITTER = 0.2;

/**
 * The delay before try `nextTry` (2 = the first retry), or `undefined` when
 * the schedule is exhausted. `random` in [0, 1) gives the jitter.
 */
export function backoffMs(schedule: readonly number[], nextTry: number, random: number): number | undefined {
  const base = schedule[nextTry - 2];
  if (base === undefined) return undefined;
  return Math.max(0, Math.round(base * (1 - JITTER + 2 * JITTER * random)));
}

/**
 * `Retry-After`: delay-seconds or an HTTP date. Returns milliseconds from
 * `nowMs` (0 for a date in the past), or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

/** What one try's answer means. */
export type Verdict =
  | { kind: 'ok' }
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  | { kind: 'fail'; error: string }
  /** 410 Gone: fail, and send nothing more to that target for this task */
  | { kind: 'gone'; error: string };

/** Classify an HTTP answer: 2xx ok; 408, 429, 5xx retry; 410 gone; 3xx (not followed) and other 4xx fail. */
export function classifyStatus(status: number, retryAfter: string | undefined, nowMs: number): Verdict {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 410) return { kind: 'gone', error: 'HTTP 410 Gone: target disabled for this task' };
  if (status === 429 || status === 503) {
    const after = parseRetryAfter(retryAfter, nowMs);
    return { kind: 'retry', error: `HTTP ${status}`, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  if (status === 408 || status >= 500) return { kind: 'retry', error: `HTTP ${status}` };
  if (status >= 300 && status < 400) return { kind: 'fail', error: `HTTP ${status}: redirects are not followed` };
  return { kind: 'fail', error: `HTTP ${status}` };
}

/**
 * After a failed try: wait this long and try again, or give up (`undefined`).
 * A `Retry-After` replaces the scheduled delay but never adds tries.
 */
export function nextDelay(
  schedule: readonly number[],
  verdict: Extract<Verdict, { kind: 'retry' }>,
  triesSoFar: number,
  random: number,
): number | undefined {
  const scheduled = backoffMs(schedule, triesSoFar + 1, random);
  if (scheduled === undefined) return undefined;
  return verdict.retryAfterMs ?? scheduled;
}
