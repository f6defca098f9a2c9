/**
 * The upper bounds (seconds) of the wait and run histograms
 * (errand_task_wait_seconds, errand_task_run_seconds): from a no-op task's
 * few milliseconds to an hour-long report. +Inf is implied after the last.
 */
export const BUCKETS: readonly number[] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** Index of the bucket a value falls in: the first bound >= v, BUCKETS.length for +Inf. */
export function bucketIndex(v: number): number {
  for (let i = 0; i < BUCKETS.length; i++) if (v <= BUCKETS[i]!) return i;
  return BUCKETS.length;
}
