import {
  evolveTask,
  isTerminalEvent,
  type ErrandEvent,
  type StoredTarget,
  type TaskRecord,
} from '@errand/contracts';
import { deliveryId as deliveryIdOf, isTerminalState, parseDeliveryId } from '@errand/contracts';

/** What the notifier remembers of one task: its fold plus what was already delivered. */
export interface TaskMemo {
  /** the task folded up to `record.lastSeq` */
  record: TaskRecord;
  /** delivery ids already recorded (`delivered` or `delivery-failed`): never sent again */
  done: Set<string>;
  /** target indexes that answered 410 Gone: nothing more goes there for this task */
  disabled: Set<number>;
  /** per target index: `at` (epoch ms) of the last progress event delivered, for throttling */
  progressAt: Map<number, number>;
  /** per target index: the highest event sequence delivered (an older progress is stale) */
  lastSentSeq: Map<number, number>;
  /** `at` of events by sequence, only for progress events (to restore `progressAt` from records) */
  progressAtBySeq: Map<number, number>;
}

export interface Seen {
  seq: number;
  event: ErrandEvent;
}


export function memoFromRecord(record: TaskRecord): TaskMemo {
  return { record, done: new Set(), disabled: new Set(), progressAt: new Map(), lastSentSeq: new Map(), progressAtBySeq: new Map() };
}

/** Remember a delivery record (ours, or one read from the log). */
export function noteRecord(memo: TaskMemo, e: Extract<ErrandEvent, { type: 'delivered' | 'delivery-failed' }>): void {
  memo.done.add(e.deliveryId);
  const parsed = parseDeliveryId(e.deliveryId);
  if (!parsed) return;
  const idx = e.target.index;
  if (parsed.seq > (memo.lastSentSeq.get(idx) ?? 0)) memo.lastSentSeq.set(idx, parsed.seq);
  if (e.type === 'delivery-failed' && e.error?.startsWith('HTTP 410')) memo.disabled.add(idx);
  const at = memo.progressAtBySeq.get(parsed.seq);
  if (e.of === 'progress' && e.type === 'delivered' && at !== undefined) {
    memo.progressAt.set(idx, Math.max(at, memo.progressAt.get(idx) ?? 0));
  }
}

/** Only recent progress times are needed (a record follows its event closely): keep a few. */
const PROGRESS_AT_KEPT = 64;
function rememberProgressAt(memo: TaskMemo, seq: number, atMs: number): void {
  memo.progressAtBySeq.set(seq, atMs);
  if (memo.progressAtBySeq.size > PROGRESS_AT_KEPT) {
    const oldest = memo.progressAtBySeq.keys().next().value;
    if (oldest !== undefined) memo.progressAtBySeq.delete(oldest);
  }
}

/**
 * Fold one event into the memo. Returns the record before and after, so the
 * caller can tell whether a terminal event is the one that won.
 */
export function applyEvent(memo: TaskMemo, seen: Seen): { before: TaskRecord; after: TaskRecord } {
  const before = memo.record;
  if (seen.event.type === 'progress') rememberProgressAt(memo, seen.seq, Date.parse(seen.event.at));
  const after = evolveTask(before, seen.event, seen.seq) ?? before;
  memo.record = after;
  if (seen.event.type === 'delivered' || seen.event.type === 'delivery-failed') noteRecord(memo, seen.event);
  return { before, after };
}

/**
 * Rebuild a memo from a task's history: the fold stops before `beforeSeq`
 * (that event is applied by the caller, like any other), while delivery
 * records are read from the whole history, later ones included.
 */
export function memoFromHistory(history: Seen[], beforeSeq: number): TaskMemo | undefined {
  let memo: TaskMemo | undefined;
  const records: Extract<ErrandEvent, { type: 'delivered' | 'delivery-failed' }>[] = [];
  const progressAt = new Map<number, number>();
  for (const h of history) {
    if (h.event.type === 'progress') progressAt.set(h.seq, Date.parse(h.event.at));
    if (h.event.type === 'delivered' || h.event.type === 'delivery-failed') records.push(h.event);
    if (h.seq >= beforeSeq) continue;
    if (!memo) {
      const r = evolveTask(undefined, h.event, h.seq);
      if (r) memo = memoFromRecord(r);
    } else applyEvent(memo, h);
  }
  if (!memo) return undefined;
  memo.progressAtBySeq = progressAt;
  for (const r of records) noteRecord(memo, r);
  while (progressAt.size > PROGRESS_AT_KEPT) progressAt.delete(progressAt.keys().next().value!);
  return memo;
}

export interface PlannedDelivery {
  index: number;
  target: StoredTarget;
  deliveryId: string;
}

/**
 * Which targets get this event: the winning terminal event goes to every
 * target not disabled; a progress event of the current attempt goes to the
 * targets (memory excepted) whose last progress is at least `progressEveryMs`
 * older, unless a later delivery event of the task is already waiting.
 * Anything already recorded is skipped (exactly once as the receiver sees it).
 */
export function planDeliveries(
  memo: TaskMemo,
  seen: Seen,
  fold: { before: TaskRecord; after: TaskRecord },
  opts: { laterWaiting: boolean },
): PlannedDelivery[] {
  const e = seen.event;
  const r = fold.after;
  if (r.deliver.length === 0) return [];
  let progress = false;
  if (e.type === 'progress') {
    if (opts.laterWaiting || e.attempt !== r.attempt || isTerminalState(r.state)) return [];
    progress = true;
  } else if (isTerminalEvent(e)) {
    // only the terminal event that ended the task: later ones are recorded but change nothing
    if (isTerminalState(fold.before.state) || !isTerminalState(r.state)) return [];
  } else return [];
  const atMs = Date.parse(e.at);
  const out: PlannedDelivery[] = [];
  r.deliver.forEach((target, index) => {
    const deliveryId = deliveryIdOf(r.id, seen.seq, index);
    if (memo.done.has(deliveryId) || memo.disabled.has(index)) return;
    if (progress) {
      // memory keeps the final message only, and an inbox gets no progress mail
      if (target.kind === 'memory' || target.kind === 'email') return;
      if ((memo.lastSentSeq.get(index) ?? 0) > seen.seq) return;
      const last = memo.progressAt.get(index);
      if (last !== undefined && atMs - last < r.progressEveryMs) return;
    }
    out.push({ index, target, deliveryId });
  });
  return out;
}
