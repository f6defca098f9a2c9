import { TASK_STATES, isTerminalState, type TaskRecord, type TaskState } from '@errand/contracts';
import { BUCKETS } from './buckets.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { percentile } from './stats.ts';
import type { Queryable } from './sql.ts';
import { BadCursor, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, type HistogramSeries, type ListFilter, type ListPage, type MetricsSnapshot, type TypeMetrics } from './types.ts';

/** The window of type metrics: the newest this many runs, waits and outcomes of each type. */
export const METRICS_WINDOW = 1000;
const WAITING: readonly TaskState[] = TASK_STATES.filter((s) => !isTerminalState(s));

/** A tenant's tasks, newest first, filtered; one row past the page says whether there is a next one. */
export async function listTasks(q: Queryable, tenant: string, f: ListFilter = {}): Promise<ListPage> {
  const limit = Math.min(Math.max(Math.trunc(f.limit ?? LIST_DEFAULT_LIMIT), 1), LIST_MAX_LIMIT);
  const params: unknown[] = [tenant];
  const where = ['tenant = $1'];
  const add = (column: string, value: unknown, op = '=') => {
    params.push(value);
    where.push(`${column} ${op} $${params.length}`);
  };
  if (f.state !== undefined) add('state', f.state);
  if (f.user !== undefined) add('usr', f.user);
  if (f.type !== undefined) add('type', f.type);
  if (f.cursor !== undefined) {
    const below = decodeCursor(f.cursor);
    if (below === undefined) throw new BadCursor('cursor is not one this API gave out');
    add('submit_seq', below, '<');
  }
  params.push(limit + 1);
  const rows = await q.query<{ record: TaskRecord }>(
    `SELECT record FROM tasks WHERE ${where.join(' AND ')} ORDER BY submit_seq DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, limit).map((r) => r.record);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.submitSeq) : null };
}

interface TypeWindowRow {
  type: string;
  runs: number[];
  waits: number[];
  failures: number;
  terminal: number;
}

/**
 * Per type, over the newest METRICS_WINDOW of each: run times of completed
 * tasks (by end), waits (by first start), terminal outcomes (by end). The
 * types are those the tenant submitted (from the counters: no table scan);
 * a type with neither a wait nor an end yet is left out.
 */
export async function typeMetrics(q: Queryable, tenant: string, type?: string): Promise<TypeMetrics[]> {
  const rows = await q.query<TypeWindowRow>(
    `SELECT t.type,
       ARRAY(SELECT run_ms FROM tasks WHERE tenant = $1 AND type = t.type AND ended_seq IS NOT NULL AND state = 'completed' AND run_ms IS NOT NULL
             ORDER BY ended_seq DESC LIMIT ${METRICS_WINDOW}) AS runs,
       ARRAY(SELECT wait_ms FROM tasks WHERE tenant = $1 AND type = t.type AND started_seq IS NOT NULL
             ORDER BY started_seq DESC LIMIT ${METRICS_WINDOW}) AS waits,
       o.failures::int AS failures, o.terminal::int AS terminal
     FROM (SELECT labels->>'type' AS type FROM counters WHERE name = 'submitted' AND labels->>'tenant' = $1) t
     CROSS JOIN LATERAL (
       SELECT count(*) FILTER (WHERE state IN ('failed', 'timed-out')) AS failures, count(*) AS terminal
       FROM (SELECT state FROM tasks WHERE tenant = $1 AND type = t.type AND ended_seq IS NOT NULL
             ORDER BY ended_seq DESC LIMIT ${METRICS_WINDOW}) w
     ) o
     WHERE $2::text IS NULL OR t.type = $2::text`,
    [tenant, type ?? null],
  );
  return rows
    .filter((r) => r.waits.length > 0 || r.terminal > 0)
    .map((r) => {
      const wait = summary(r.waits);
      return {
        type: r.type,
        completionMs: summary(r.runs),
        queueWaitMs: { count: wait.count, avg: wait.avg, p95: wait.p95 },
        failureRate: r.terminal ? r.failures / r.terminal : null,
        terminal: r.terminal,
      };
    })
    .sort((a, b) => a.type.localeCompare(b.type));
}

function summary(values: number[]): { count: number; avg: number | null; p50: number | null; p95: number | null } {
  const n = values.length;
  if (n === 0) return { count: 0, avg: null, p50: null, p95: null };
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return { count: n, avg: Math.round(sum / n), p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/** The /metrics snapshot: two small tables, whatever the number of tasks. */
export async function metricsSnapshot(q: Queryable): Promise<MetricsSnapshot> {
  const counters = await q.query<{ name: string; labels: Record<string, string>; value: number }>(
    'SELECT name, labels, value FROM counters ORDER BY series',
  );
  const histograms = await q.query<{ name: string; type: string; buckets: number[]; sum: number; count: number }>(
    'SELECT name, type, buckets, sum, count FROM histograms ORDER BY name, type',
  );
  const out: MetricsSnapshot = { submitted: [], finished: [], deliveries: [], wait: [], run: [], tasks: [] };
  const gauge = new Map<string, number>();
  const tenants = new Set<string>();
  for (const { name, labels: l, value } of counters) {
    if (name === 'submitted') {
      out.submitted.push({ tenant: l.tenant!, type: l.type!, value });
      tenants.add(l.tenant!);
    } else if (name === 'finished') out.finished.push({ tenant: l.tenant!, type: l.type!, outcome: l.outcome as TaskState, value });
    else if (name === 'deliveries') out.deliveries.push({ kind: l.kind!, outcome: l.outcome!, value });
    else if (name === 'tasks') gauge.set(`${l.tenant}/${l.state}`, value);
  }
  // every tenant ever submitted × every non-terminal state: 0 is an answer, absence is not
  for (const tenant of [...tenants].sort()) {
    for (const state of WAITING) out.tasks.push({ tenant, state, value: gauge.get(`${tenant}/${state}`) ?? 0 });
  }
  for (const h of histograms) (h.name === 'wait' ? out.wait : out.run).push(cumulative(h));
  return out;
}

function cumulative(h: { type: string; buckets: number[]; sum: number; count: number }): HistogramSeries {
  let total = 0;
  const buckets = h.buckets.map((n, i) => ({ le: i < BUCKETS.length ? BUCKETS[i]! : Number.POSITIVE_INFINITY, count: (total += n) }));
  return { type: h.type, buckets, sum: h.sum, count: h.count };
}
