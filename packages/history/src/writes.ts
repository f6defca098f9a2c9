import type { Deltas } from './deltas.ts';
import type { TaskRow } from './fold.ts';
import type { Queryable } from './sql.ts';

/**
 * Rows (or keys) per statement: a statement's JSON parameter and its result
 * are held in the database's memory while it runs, and the embedded store's
 * WebAssembly memory never shrinks back after a peak (one statement for a
 * batch of 20,000 messages took the store's process from 260 to 350 MiB).
 */
export const STATEMENT_ROWS = 1_000;

/** `items` in pieces of at most STATEMENT_ROWS, one statement each, one after the other. */
export async function inStatements<T>(items: readonly T[], statement: (piece: readonly T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += STATEMENT_ROWS) await statement(items.slice(i, i + STATEMENT_ROWS));
}

/** Every changed task of a batch, STATEMENT_ROWS a statement. A seq column left null by the fold keeps the row's. */
export async function upsertTasks(tx: Queryable, rows: readonly TaskRow[]): Promise<void> {
  await inStatements(rows, (piece) => upsertChunk(tx, piece));
}

async function upsertChunk(tx: Queryable, rows: readonly TaskRow[]): Promise<void> {
  await tx.query(
    `INSERT INTO tasks (k, tenant, id, submit_seq, state, usr, type, ended_at, wait_ms, run_ms, started_seq, ended_seq, last_seq, record)
     SELECT k, tenant, id, submit_seq, state, usr, type, ended_at, wait_ms, run_ms, started_seq, ended_seq, last_seq, record
     FROM jsonb_to_recordset($1::text::jsonb) AS x(k text, tenant text, id text, submit_seq bigint, state text, usr text, type text,
       ended_at timestamptz, wait_ms double precision, run_ms double precision, started_seq bigint, ended_seq bigint, last_seq bigint, record jsonb)
     ON CONFLICT (k) DO UPDATE SET
       state = excluded.state,
       ended_at = excluded.ended_at,
       wait_ms = excluded.wait_ms,
       run_ms = excluded.run_ms,
       started_seq = COALESCE(excluded.started_seq, tasks.started_seq),
       ended_seq = CASE WHEN excluded.ended_at IS NULL THEN NULL ELSE COALESCE(excluded.ended_seq, tasks.ended_seq) END,
       last_seq = excluded.last_seq,
       record = excluded.record`,
    [JSON.stringify(rows)],
  );
}

/** A batch's counter and histogram deltas, added in one statement. */
export async function addDeltas(tx: Queryable, d: Deltas): Promise<void> {
  if (d.counters.size === 0 && d.histograms.size === 0) return;
  await tx.query(
    `WITH c AS (
       INSERT INTO counters (series, name, labels, value)
       SELECT series, name, labels, value FROM jsonb_to_recordset($1::text::jsonb) AS x(series text, name text, labels jsonb, value double precision)
       ON CONFLICT (series) DO UPDATE SET value = counters.value + excluded.value
     ), h AS (
       INSERT INTO histograms (name, type, buckets, sum, count)
       SELECT name, type, ARRAY(SELECT v::double precision FROM jsonb_array_elements_text(buckets) WITH ORDINALITY AS e(v, i) ORDER BY i), sum, count
       FROM jsonb_to_recordset($2::text::jsonb) AS x(name text, type text, buckets jsonb, sum double precision, count double precision)
       ON CONFLICT (name, type) DO UPDATE SET
         buckets = ARRAY(SELECT a + b FROM unnest(histograms.buckets, excluded.buckets) WITH ORDINALITY AS u(a, b, i) ORDER BY i),
         sum = histograms.sum + excluded.sum,
         count = histograms.count + excluded.count
     )
     SELECT 1`,
    [JSON.stringify([...d.counters.values()]), JSON.stringify([...d.histograms.values()])],
  );
}
