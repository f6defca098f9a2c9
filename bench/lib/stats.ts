/** Small numeric helpers for the bench: percentiles and formatting. */

/** The p-th percentile (0–100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function dist(values: readonly number[]): Dist {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

export function fmt(n: number | undefined, digits = 1): string {
  if (n === undefined || Number.isNaN(n)) return '—';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(digits);
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0) return '—';
  return `${(a / b).toFixed(2)}x`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Progress lines go to stderr so the table on stdout stays clean. */
export function say(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** Call `fn` `times` times, one after another: the median and the longest, in ms. */
export async function timed(times: number, fn: () => Promise<unknown>): Promise<{ medianMs: number; maxMs: number }> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: ms[Math.floor(ms.length / 2)]!, maxMs: ms[ms.length - 1]! };
}
