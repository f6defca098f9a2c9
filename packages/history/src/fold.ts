import { evolveTask, isTerminalState, taskKey, type TaskRecord } from '@errand/contracts';
import { Deltas } from './deltas.ts';
import { countEvent } from './metrics.ts';
import type { LogItem, TaskChange } from './types.ts';

/** One row of `tasks`, as the store's upsert reads it (jsonb_to_recordset). */
export interface TaskRow {
  k: string;
  tenant: string;
  id: string;
  submit_seq: number;
  state: string;
  usr: string;
  type: string;
  /** set while the task is terminal */
  ended_at: string | null;
  wait_ms: number | null;
  run_ms: number | null;
  /** the sequence of its first `started`: null = unchanged by this batch (it is set once) */
  started_seq: number | null;
  /** the sequence of the event that ended it: null = unchanged by this batch, or not ended */
  ended_seq: number | null;
  last_seq: number;
  record: TaskRecord;
}

export interface BatchFold {
  changes: TaskChange[];
  /** the batch's tasks as they are now, by key */
  records: Map<string, TaskRecord>;
  rows: TaskRow[];
  deltas: Deltas;
  /** events of tasks the store never saw submitted (or already expired) */
  orphans: number;
}

interface Touched {
  record: TaskRecord;
  startedSeq: number | null;
  endedSeq: number | null;
  /** the `at` of the event that ended it, when this batch did */
  endedAt?: string;
}

const ms = (from: string | undefined, to: string | undefined): number | null => {
  if (from === undefined || to === undefined) return null;
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) ? Math.max(0, d) : null;
};

/**
 * Fold a batch of the log over the records its tasks had (`known`, by key):
 * pure, `known`'s records are not changed (each change gets its own record,
 * so a batch's changes of one task each show that moment).
 */
export function foldBatch(items: readonly LogItem[], known: ReadonlyMap<string, TaskRecord>): BatchFold {
  const touched = new Map<string, Touched>();
  const changes: TaskChange[] = [];
  const deltas = new Deltas();
  let orphans = 0;
  for (const { seq, event: e } of items) {
    if (!e) continue;
    const k = taskKey(e.tenant, e.taskId);
    const t = touched.get(k);
    const cur = t ? t.record : known.get(k);
    const next = evolveTask(cur, e, seq);
    if (!next) orphans++;
    if (!next || next === cur) continue;
    const before = cur ? { state: cur.state, firstStartedAt: cur.firstStartedAt } : undefined;
    countEvent(deltas, before, next, e);
    changes.push({ before, after: next, event: e, seq });
    const entry = t ?? { record: next, startedSeq: null, endedSeq: null };
    entry.record = next;
    if (!before?.firstStartedAt && next.firstStartedAt) entry.startedSeq = seq;
    if (isTerminalState(next.state) && (!before || !isTerminalState(before.state))) {
      entry.endedSeq = seq;
      entry.endedAt = e.at;
    }
    touched.set(k, entry);
  }
  const records = new Map<string, TaskRecord>();
  const rows: TaskRow[] = [];
  for (const [k, t] of touched) {
    records.set(k, t.record);
    rows.push(toRow(k, t));
  }
  return { changes, records, rows, deltas, orphans };
}

function toRow(k: string, { record: r, startedSeq, endedSeq, endedAt }: Touched): TaskRow {
  const ended = isTerminalState(r.state);
  return {
    k,
    tenant: r.tenant,
    id: r.id,
    submit_seq: r.submitSeq,
    state: r.state,
    usr: r.user,
    type: r.type,
    // every terminal event sets finishedAt today; the ending event's time is the fallback
    ended_at: ended ? (r.finishedAt ?? endedAt ?? r.createdAt) : null,
    wait_ms: ms(r.createdAt, r.firstStartedAt),
    run_ms: ended ? ms(r.firstStartedAt, r.finishedAt) : null,
    started_seq: startedSeq,
    ended_seq: ended ? endedSeq : null,
    last_seq: r.lastSeq,
    record: r,
  };
}
