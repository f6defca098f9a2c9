const DAY_MS = 86_400_000;

/** The retention rule: a task that ended before this time (epoch ms) is gone (`ERRAND_HISTORY_DAYS`). */
export function retentionCutoff(historyDays: number, now = Date.now()): number {
  return now - historyDays * DAY_MS;
}
