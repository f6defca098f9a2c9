// What the CLI prints for people: tables, sentences and timelines (pure; `--json` prints the API's JSON instead).
import type { ErrandEvent, TaskView } from '@errand/contracts';
import { formatDuration, renderProgress } from './progress.ts';
import type { TaskTypeListing } from './types.ts';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed-out', 'rejected']);

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `12s ago`, `3m 20s ago`. */
export function ago(iso: string, now: number): string {
  return `${formatDuration(Math.max(0, now - Date.parse(iso)))} ago`;
}

/** `[██████░░░░]  60%` — a short bar for tables. */
export function miniBar(percent: number, width = 10): string {
  const pct = Math.max(0, Math.min(100, percent));
  const full = Math.round((pct / 100) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${String(Math.floor(pct)).padStart(3)}%`;
}

/** `errand list`: one row per task, newest first (as the API answers). */
export function formatList(items: TaskView[], now: number, nextCursor: string | null = null): string {
  if (items.length === 0) return 'No tasks.';
  const rows = items.map((v) => [v.id, v.type, v.state, miniBar(v.progress.percent), ago(v.createdAt, now), v.user]);
  const more = nextCursor ? `\nMore: errand list --cursor ${nextCursor}` : '';
  return `${table(['ID', 'TYPE', 'STATE', 'PROGRESS', 'AGE', 'USER'], rows)}${more}`;
}

/** `errand status`: the view as sentences. */
export function formatStatus(v: TaskView, now: number): string {
  const lines = [`Task ${v.id} (${v.type}, user ${v.user}, priority ${v.priority}) is ${v.state}${v.attempt > 1 ? ` on attempt ${v.attempt}` : ''}.`];
  lines.push(`Submitted ${ago(v.createdAt, now)} (${v.createdAt}).`);
  if (v.waitingOn && !TERMINAL.has(v.state)) lines.push(`Waiting: ${v.waitingOn.message}`);
  else if (v.state === 'queued' && v.position !== undefined) lines.push(v.position === 0 ? 'It is next to run.' : `${v.position} tasks are ahead of it.`);
  if (v.state === 'running' || (v.progress.percent > 0 && !TERMINAL.has(v.state))) {
    lines.push(`Progress: ${renderProgress({ percent: v.progress.percent, message: v.progress.message, etaMs: v.progress.etaMs })}`);
  }
  if (v.waitMs !== null) lines.push(`It waited ${formatDuration(v.waitMs)} before it started${v.runMs !== null ? ` and ran ${formatDuration(v.runMs)}` : ''}.`);
  if (v.error) lines.push(`Error: ${v.error.code}: ${v.error.message}`);
  if (v.state === 'completed') lines.push(v.result !== undefined ? `Result: ${oneLine(v.result)}` : 'It has no inline result: errand result <id>.');
  if (v.partialResult !== undefined) lines.push(`Partial result: ${oneLine(v.partialResult)}`);
  for (const d of v.deliveries) {
    lines.push(`Delivery to ${d.name ?? d.kind}: ${d.state} after ${d.tries} ${d.tries === 1 ? 'try' : 'tries'}${d.lastError ? ` (${d.lastError})` : ''}.`);
  }
  return lines.join('\n');
}

function oneLine(value: unknown, max = 200): string {
  const s = JSON.stringify(value) ?? 'null';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export interface Segment {
  kind: 'wait' | 'run';
  label: string;
  fromMs: number;
  toMs: number;
  open: boolean;
  outcome?: string;
}

/** Each wait and each run of a task, from its events (an open one ends at `now`). */
export function segments(events: ErrandEvent[], now: number): Segment[] {
  const out: Segment[] = [];
  let wait: { from: number; label: string } | undefined;
  let run: { from: number; attempt: number } | undefined;
  const close = (at: number, outcome: string) => {
    if (run) out.push({ kind: 'run', label: `ran attempt ${run.attempt}`, fromMs: run.from, toMs: at, open: false, outcome });
    else if (wait) out.push({ kind: 'wait', label: wait.label, fromMs: wait.from, toMs: at, open: false, outcome });
    run = undefined;
    wait = undefined;
  };
  for (const e of events) {
    const at = Date.parse(e.at);
    if (e.type === 'submitted') wait = { from: at, label: 'waited in the queue' };
    else if (e.type === 'started') {
      if (wait) out.push({ kind: 'wait', label: wait.label, fromMs: wait.from, toMs: at, open: false });
      wait = undefined;
      run = { from: at, attempt: e.attempt };
    } else if (e.type === 'failed' && e.willRetry) {
      close(at, `failed: ${e.error.message}`);
      wait = { from: at, label: 'waited to retry' };
    } else if (e.type === 'failed' || e.type === 'completed' || e.type === 'cancelled' || e.type === 'timed-out' || e.type === 'rejected') {
      close(at, e.type);
    } else if (e.type === 'retry-requested' && !run && !wait) {
      wait = { from: at, label: 'waited after a retry' };
    }
  }
  if (run) out.push({ kind: 'run', label: `running attempt ${run.attempt}`, fromMs: run.from, toMs: now, open: true });
  else if (wait) out.push({ kind: 'wait', label: wait.label.replace('waited', 'waiting'), fromMs: wait.from, toMs: now, open: true });
  return out;
}

/** `errand history`: the timeline of waits and runs, then the events with their offsets. */
export function formatHistory(events: ErrandEvent[], now: number, describe: (e: ErrandEvent) => string): string {
  if (events.length === 0) return 'No events.';
  const t0 = Date.parse(events[0]!.at);
  const segs = segments(events, now);
  const timeline = segs.map((s) => {
    const d = `${formatDuration(s.toMs - s.fromMs)}${s.open ? ' so far' : ''}`;
    return `  ${s.kind === 'wait' ? '…' : '▶'} ${s.label.padEnd(22)} ${d.padStart(12)}${s.outcome ? `  → ${s.outcome}` : ''}`;
  });
  // progress and checkpoints are many and say little here: the timeline and `watch` show progress
  const shown = events.filter((e) => e.type !== 'checkpoint' && e.type !== 'progress');
  const progress = events.filter((e) => e.type === 'progress').length;
  const lines = shown.map((e) => `  +${formatDuration(Date.parse(e.at) - t0).padStart(7)}  ${e.at.slice(11, 23)}  ${describe(e)}`);
  const note = progress ? `  (${progress} progress events not shown: errand history --json)` : '';
  return ['Timeline:', ...timeline, '', 'Events:', ...lines, ...(note ? [note] : [])].join('\n');
}

export interface TopInput {
  running: TaskView[];
  queued: TaskView[];
  types: TaskTypeListing['items'];
  now: number;
  columns?: number;
}

/** `errand top`: running tasks with bars, queue depth by priority, task types with workers and free slots. */
export function formatTop(t: TopInput): string {
  const out: string[] = [`errand top — ${new Date(t.now).toISOString().slice(11, 19)} UTC — ${t.running.length} running, ${t.queued.length} queued`, ''];
  out.push('RUNNING');
  if (t.running.length === 0) out.push('  nothing runs');
  else {
    const rows = t.running.map((v) => [
      v.id,
      v.type,
      v.user,
      miniBar(v.progress.percent, 16),
      v.progress.etaMs !== null ? `ETA ${formatDuration(v.progress.etaMs)}` : '',
      v.startedAt ? formatDuration(t.now - Date.parse(v.startedAt)) : '',
    ]);
    out.push(indent(table(['ID', 'TYPE', 'USER', 'PROGRESS', 'ETA', 'RUNNING'], rows)));
  }
  out.push('', 'QUEUED BY PRIORITY');
  const byPriority = new Map<number, number>();
  for (const v of t.queued) byPriority.set(v.priority, (byPriority.get(v.priority) ?? 0) + 1);
  if (byPriority.size === 0) out.push('  the queue is empty');
  else {
    const rows = [...byPriority.entries()].sort((a, b) => b[0] - a[0]).map(([p, n]) => [String(p), String(n), '▇'.repeat(Math.min(n, 40))]);
    out.push(indent(table(['PRIORITY', 'TASKS', ''], rows)));
  }
  out.push('', 'TASK TYPES');
  const rows = t.types.map((ty) => {
    const x = ty as typeof ty & { live?: boolean; workers?: number; freeSlots?: number };
    return [ty.name, ty.pool, x.live === undefined ? '?' : x.live ? 'live' : 'offline', x.workers === undefined ? '?' : String(x.workers), x.freeSlots === undefined ? '?' : String(x.freeSlots)];
  });
  out.push(indent(table(['TYPE', 'POOL', 'STATE', 'WORKERS', 'FREE SLOTS'], rows)));
  const cols = t.columns ?? 0;
  return out.map((l) => (cols > 1 && l.length > cols ? `${l.slice(0, cols - 1)}…` : l)).join('\n');
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
