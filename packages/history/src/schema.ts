import type { Sql } from './sql.ts';
import { schemaTooNew } from './errors.ts';

export const SCHEMA_VERSION = 1;

/**
 * The tables, created when missing. `tasks` holds one row per task: the whole
 * record (jsonb) beside the columns lists, filters, metrics and expiry use,
 * each behind an index so no read scans the table:
 *  - lists: newest first by submit_seq, per tenant and per filter;
 *  - type metrics: the newest 1,000 ends (ended_seq) and waits (started_seq);
 *  - expiry: ended_at, set while the task is terminal.
 * `counters` holds every /metrics counter and gauge series, `histograms` one
 * row per histogram and type (per-bucket counts, not cumulative).
 */
const DDL = [
  `CREATE TABLE IF NOT EXISTS meta (
    id int PRIMARY KEY CHECK (id = 1),
    schema_version int NOT NULL,
    log_identity text,
    applied_seq bigint NOT NULL DEFAULT 0
  )`,
  `INSERT INTO meta (id, schema_version, applied_seq) VALUES (1, ${SCHEMA_VERSION}, 0) ON CONFLICT (id) DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS tasks (
    k text PRIMARY KEY,
    tenant text NOT NULL,
    id text NOT NULL,
    submit_seq bigint NOT NULL,
    state text NOT NULL,
    usr text NOT NULL,
    type text NOT NULL,
    ended_at timestamptz,
    wait_ms double precision,
    run_ms double precision,
    started_seq bigint,
    ended_seq bigint,
    last_seq bigint NOT NULL,
    record jsonb NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS tasks_list ON tasks (tenant, submit_seq DESC)`,
  `CREATE INDEX IF NOT EXISTS tasks_state ON tasks (tenant, state, submit_seq)`,
  `CREATE INDEX IF NOT EXISTS tasks_user ON tasks (tenant, usr, submit_seq)`,
  `CREATE INDEX IF NOT EXISTS tasks_type ON tasks (tenant, type, submit_seq)`,
  `CREATE INDEX IF NOT EXISTS tasks_ended_at ON tasks (ended_at) WHERE ended_at IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS tasks_type_ended ON tasks (tenant, type, ended_seq) WHERE ended_seq IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS tasks_type_started ON tasks (tenant, type, started_seq) WHERE started_seq IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS counters (
    series text PRIMARY KEY,
    name text NOT NULL,
    labels jsonb NOT NULL,
    value double precision NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS histograms (
    name text NOT NULL,
    type text NOT NULL,
    buckets double precision[] NOT NULL,
    sum double precision NOT NULL,
    count double precision NOT NULL,
    PRIMARY KEY (name, type)
  )`,
];

/** Create what is missing (idempotent; several intakes may open a shared server at once). */
export async function ensureSchema(sql: Sql): Promise<void> {
  await sql.transaction(async (tx) => {
    // one opener at a time: CREATE ... IF NOT EXISTS races on the catalog otherwise
    await tx.query('SELECT pg_advisory_xact_lock(727274)');
    for (const statement of DDL) await tx.query(statement);
    const [row] = await tx.query<{ v: number }>('SELECT schema_version AS v FROM meta WHERE id = 1');
    if (row && row.v > SCHEMA_VERSION) throw schemaTooNew(row.v, SCHEMA_VERSION);
  });
}
