import { applyTaskEvent, evolveTask, isTerminalState, taskKey, type ErrandEvent, type TaskRecord, type TaskState } from '@errand/contracts';
import { Window } from './stats.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Before } from './metrics.ts';

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 1000;

export interface ListFilter {
  state?: TaskState;
  user?: string;
  type?: string;
  limit?: number;
  cursor?: string;
}

export interface ListPage {
  items: TaskRecord[];
  nextCursor: string | null;
}

export interface TypeMetrics {
  type: string;
  completionMs: { count: number; avg: number | null; p50: number | null; p95: number | null };
  queueWaitMs: { count: number; avg: number | null; p95: number | null };
  /** (failed + timed-out) / terminal, over the window of terminal outcomes */
  failureRate: number | null;
  terminal: number;
}

class TypeWindow {
  readonly run: Window;
  readonly wait: Window;
  readonly outcomes: TaskState[] = [];
  constructor(private readonly limit: number) {
    this.run = new Window(limit);
    this.wait = new Window(limit);
  }
  outcome(s: TaskState): void {
    this.outcomes.push(s);
    if (this.outcomes.length > this.limit) this.outcomes.shift();
  }
}

/** The cursor's error: the caller maps it to `invalid`. */
export class BadCursor extends Error {
  override name = 'BadCursor';
}

const key = taskKey;

/** One folded event: the task's state before it (undefined for a new task), its record after it. */
export interface TaskChange {
  before: Before | undefined;
  after: TaskRecord;
  event: ErrandEvent;
  seq: number;
}

/**
 * The intake's read model: every task folded with `evolveTask`, the tenants'
 * tasks in submission order for lists, and per-type metrics over a bounded
 * window. Pure: fed events and sequences from outside.
 */
export class Projection {
  private readonly tasks = new Map<string, TaskRecord>();
  /** per tenant: task ids in submission (stream) order */
  private readonly order = new Map<string, { seq: number; id: string }[]>();
  private readonly windows = new Map<string, Map<string, TypeWindow>>();
  /** the stream sequence of the last message folded (or skipped) */
  private applied = 0;
  private readonly listeners = new Set<(c: TaskChange) => void>();

  constructor(private readonly windowSize = 1000) {}

  /** Call `fn` after each event that changed a task (metrics, live lists); returns its removal. */
  onChange(fn: (c: TaskChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get appliedSeq(): number {
    return this.applied;
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Note a sequence that carried no usable event (so waits on it end). */
  skip(seq: number): void {
    if (seq > this.applied) this.applied = seq;
  }

  /** Fold one event; returns the task's new record (undefined for an orphan event). */
  apply(e: ErrandEvent, seq: number): TaskRecord | undefined {
    this.skip(seq);
    const k = key(e.tenant, e.taskId);
    const existing = this.tasks.get(k);
    if (existing) {
      // folded in place: a copy per event is most of the read model's garbage
      const before = { state: existing.state, firstStartedAt: existing.firstStartedAt } as TaskRecord;
      if (!applyTaskEvent(existing, e, seq)) return existing;
      this.observe(before, existing);
      this.emit({ before, after: existing, event: e, seq });
      return existing;
    }
    const before = undefined;
    const after = evolveTask(undefined, e, seq);
    if (!after) return after;
    this.tasks.set(k, after);
    if (!before) {
      let list = this.order.get(e.tenant);
      if (!list) this.order.set(e.tenant, (list = []));
      list.push({ seq, id: e.taskId });
    }
    this.observe(before, after);
    this.emit({ before: undefined, after, event: e, seq });
    return after;
  }

  private emit(c: TaskChange): void {
    for (const fn of this.listeners) fn(c);
  }

  get(tenant: string, id: string): TaskRecord | undefined {
    return this.tasks.get(key(tenant, id));
  }

  /** A tenant's tasks, newest first, filtered, one page at a time. */
  list(tenant: string, f: ListFilter = {}): ListPage {
    const limit = Math.min(Math.max(f.limit ?? LIST_DEFAULT_LIMIT, 1), LIST_MAX_LIMIT);
    let below = Number.POSITIVE_INFINITY;
    if (f.cursor !== undefined) {
      const c = decodeCursor(f.cursor);
      if (c === undefined) throw new BadCursor('cursor is not one this API gave out');
      below = c;
    }
    const list = this.order.get(tenant) ?? [];
    let i = upperIndexBelow(list, below);
    const items: TaskRecord[] = [];
    for (; i >= 0; i--) {
      const r = this.tasks.get(key(tenant, list[i]!.id));
      if (!r || !matches(r, f)) continue;
      if (items.length === limit) return { items, nextCursor: encodeCursor(items[items.length - 1]!.submitSeq) };
      items.push(r);
    }
    return { items, nextCursor: null };
  }

  /** Metrics of one tenant's task types (all types it has used, or only `type`). */
  metrics(tenant: string, type?: string): TypeMetrics[] {
    const byType = this.windows.get(tenant);
    if (!byType) return [];
    const out: TypeMetrics[] = [];
    for (const [t, w] of byType) {
      if (type !== undefined && t !== type) continue;
      const wait = w.wait.summary();
      const failures = w.outcomes.filter((s) => s === 'failed' || s === 'timed-out').length;
      out.push({
        type: t,
        completionMs: w.run.summary(),
        queueWaitMs: { count: wait.count, avg: wait.avg, p95: wait.p95 },
        failureRate: w.outcomes.length ? failures / w.outcomes.length : null,
        terminal: w.outcomes.length,
      });
    }
    return out.sort((a, b) => a.type.localeCompare(b.type));
  }

  private window(tenant: string, type: string): TypeWindow {
    let byType = this.windows.get(tenant);
    if (!byType) this.windows.set(tenant, (byType = new Map()));
    let w = byType.get(type);
    if (!w) byType.set(type, (w = new TypeWindow(this.windowSize)));
    return w;
  }

  private observe(before: TaskRecord | undefined, after: TaskRecord): void {
    if (!before?.firstStartedAt && after.firstStartedAt) {
      const waitMs = Date.parse(after.firstStartedAt) - Date.parse(after.createdAt);
      if (Number.isFinite(waitMs)) this.window(after.tenant, after.type).wait.push(Math.max(0, waitMs));
    }
    const wasTerminal = before !== undefined && isTerminalState(before.state);
    if (wasTerminal || !isTerminalState(after.state)) return;
    const w = this.window(after.tenant, after.type);
    w.outcome(after.state);
    if (after.state === 'completed' && after.firstStartedAt && after.finishedAt) {
      const runMs = Date.parse(after.finishedAt) - Date.parse(after.firstStartedAt);
      if (Number.isFinite(runMs)) w.run.push(Math.max(0, runMs));
    }
  }
}

function matches(r: TaskRecord, f: ListFilter): boolean {
  return (
    (f.state === undefined || r.state === f.state) &&
    (f.user === undefined || r.user === f.user) &&
    (f.type === undefined || r.type === f.type)
  );
}

/** Index of the last entry with seq < below (-1 when none): binary search, seqs ascend. */
function upperIndexBelow(list: readonly { seq: number }[], below: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq < below) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
