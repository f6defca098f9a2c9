/** A bounded window of numbers (the newest `limit` kept) with summary statistics. */
export class Window {
  private readonly values: number[] = [];
  constructor(private readonly limit: number) {}

  push(v: number): void {
    this.values.push(v);
    if (this.values.length > this.limit) this.values.shift();
  }

  get size(): number {
    return this.values.length;
  }

  summary(): { count: number; avg: number | null; p50: number | null; p95: number | null } {
    const n = this.values.length;
    if (n === 0) return { count: 0, avg: null, p50: null, p95: null };
    const sorted = [...this.values].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    return { count: n, avg: Math.round(sum / n), p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
  }
}

/** Nearest-rank percentile of an ascending array (non-empty). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}
