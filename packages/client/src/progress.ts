/** `1h 02m`, `3m 20s`, `45s`, `<1s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 1) return '<1s';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export interface ProgressView {
  percent: number;
  message?: string | null;
  etaMs?: number | null;
}

/**
 * One line: `[█████░░░░░]  50% message · ETA 1m 20s`, cut to `columns`.
 * `etaMs` counts from when it was reported: pass the time since as `sinceMs`.
 */
export function renderProgress(p: ProgressView, opts: { width?: number; columns?: number; sinceMs?: number } = {}): string {
  const width = opts.width ?? 24;
  const pct = Math.max(0, Math.min(100, p.percent));
  const full = Math.round((pct / 100) * width);
  const bar = `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
  let line = `${bar} ${String(Math.floor(pct)).padStart(3)}%`;
  if (p.message) line += ` ${p.message}`;
  if (p.etaMs !== undefined && p.etaMs !== null && pct < 100) {
    line += ` · ETA ${formatDuration(Math.max(0, p.etaMs - (opts.sinceMs ?? 0)))}`;
  }
  const cols = opts.columns ?? 0;
  return cols > 1 && line.length > cols - 1 ? `${line.slice(0, cols - 2)}…` : line;
}
