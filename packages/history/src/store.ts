import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LogSink, TaskRecord } from '@errand/contracts';
import { taskKey } from '@errand/contracts';
import { foldBatch } from './fold.ts';
import { takeLock } from './lock.ts';
import { Lru } from './lru.ts';
import { listTasks, metricsSnapshot, typeMetrics } from './reads.ts';
import { ensureSchema } from './schema.ts';
import { pgSql, type Queryable, type Sql } from './sql.ts';
import { pgliteChildSql } from './child-sql.ts';
import { StaleProjectorError, type ExpiredTask, type HistoryStore, type ListFilter, type ListPage, type LogItem, type MetricsSnapshot, type TaskChange, type TypeMetrics } from './types.ts';
import { addDeltas, inStatements, upsertTasks } from './writes.ts';

export interface OpenHistoryStoreOptions {
  /** a PostgreSQL server shared by every intake (ERRAND_DATABASE_URL); without it, PGlite in `<dataDir>/history` */
  databaseUrl?: string | undefined;
  dataDir: string;
  log?: LogSink | undefined;
  /** records this writer keeps to skip re-reading hot tasks (default 20,000) */
  cacheSize?: number;
}

const DEFAULT_CACHE = 20_000;
/**
 * PGlite runs no autovacuum: every upsert leaves a dead row version behind
 * and reads slow down by the hundred-fold (measured: a list page 0.7 s after
 * 2M events). The embedded store vacuums and analyzes `tasks` itself after
 * this many row writes.
 */
const VACUUM_EVERY_ROWS = 100_000;

/** Open (and create, when missing) the history store. */
export async function openHistoryStore(opts: OpenHistoryStoreOptions): Promise<HistoryStore> {
  const log = opts.log;
  if (opts.databaseUrl) {
    const sql = pgSql(opts.databaseUrl, (err) => log?.warn('history store: a PostgreSQL connection failed', { err: err.message }));
    try {
      await ensureSchema(sql);
    } catch (err) {
      await sql.close().catch(() => undefined);
      throw err;
    }
    return new SqlHistoryStore(sql, 'postgres', redact(opts.databaseUrl), opts.cacheSize ?? DEFAULT_CACHE, () => undefined, log);
  }
  const dir = join(opts.dataDir, 'history');
  mkdirSync(opts.dataDir, { recursive: true });
  const release = takeLock(join(opts.dataDir, 'history.lock'), dir);
  try {
    const started = Date.now();
    const sql = await pgliteChildSql(dir, (why) => log?.error(`history store: ${why}; it is started again on the next query`, { dir }));
    await ensureSchema(sql).catch(async (err: unknown) => {
      await sql.close().catch(() => undefined);
      throw err;
    });
    log?.info('history store: embedded PGlite opened', { dir, ms: Date.now() - started });
    return new SqlHistoryStore(sql, 'embedded', dir, opts.cacheSize ?? DEFAULT_CACHE, release, log);
  } catch (err) {
    release();
    throw err;
  }
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql';
  }
}

class SqlHistoryStore implements HistoryStore {
  /** records this writer committed, by task key: a hot task is not read back */
  private readonly cache: Lru<string, TaskRecord>;
  private rowsSinceVacuum = 0;

  constructor(
    private readonly sql: Sql,
    readonly kind: 'postgres' | 'embedded',
    readonly where: string,
    cacheSize: number,
    private readonly release: () => void,
    private readonly log: LogSink | undefined,
  ) {
    this.cache = new Lru(cacheSize);
  }

  async logIdentity(): Promise<string | undefined> {
    const [row] = await this.sql.query<{ id: string | null }>('SELECT log_identity AS id FROM meta WHERE id = 1');
    return row?.id ?? undefined;
  }

  async appliedSeq(): Promise<number> {
    const [row] = await this.sql.query<{ seq: number }>('SELECT applied_seq::double precision AS seq FROM meta WHERE id = 1');
    return row?.seq ?? 0;
  }

  async reset(identity: string): Promise<void> {
    this.cache.clear();
    await this.sql.transaction(async (tx) => {
      await tx.query('TRUNCATE tasks, counters, histograms');
      await tx.query('UPDATE meta SET log_identity = $1, applied_seq = 0 WHERE id = 1', [identity]);
    });
  }

  async apply(items: LogItem[], upTo: number, expectedSeq: number): Promise<TaskChange[]> {
    try {
      const fold = await this.sql.transaction(async (tx) => {
        const moved = await tx.query('UPDATE meta SET applied_seq = $1 WHERE id = 1 AND applied_seq = $2 RETURNING 1', [upTo, expectedSeq]);
        if (moved.length === 0) throw new StaleProjectorError(`the store is no longer at sequence ${expectedSeq}: another projector wrote it`);
        const fold = foldBatch(items, await this.known(tx, items));
        await upsertTasks(tx, fold.rows);
        await addDeltas(tx, fold.deltas);
        return fold;
      });
      // only what was committed goes into the cache
      for (const [k, r] of fold.records) this.cache.set(k, r);
      if (fold.orphans > 0) this.log?.debug('history store: events of unknown tasks skipped', { count: fold.orphans, upTo });
      // committed: a failed vacuum is only logged
      await this.maintain(fold.rows.length).catch((err: unknown) => this.log?.warn('history store: vacuum failed', { err: String(err) }));
      return fold.changes;
    } catch (err) {
      // another writer may have changed any task: nothing cached can be trusted
      this.cache.clear();
      throw err;
    }
  }

  private async maintain(rows: number): Promise<void> {
    this.rowsSinceVacuum += rows;
    if (this.rowsSinceVacuum < VACUUM_EVERY_ROWS) return;
    this.rowsSinceVacuum = 0;
    const started = Date.now();
    // a server's autovacuum cleans up, but its statistics come late during a bulk catch-up
    // (a list planned on stale statistics sorted the whole table: 0.6 s after 2M events)
    await this.sql.query(this.kind === 'embedded' ? 'VACUUM ANALYZE tasks' : 'ANALYZE tasks');
    this.log?.debug('history store: vacuumed', { ms: Date.now() - started });
  }

  /**
   * The current records of a batch's tasks: the cache's, the rest in one
   * query. A task whose first event here is its `submitted` is new (that is
   * always the first event of a task's subject): nothing to read.
   */
  private async known(tx: Queryable, items: readonly LogItem[]): Promise<Map<string, TaskRecord>> {
    const known = new Map<string, TaskRecord>();
    const missing = new Set<string>();
    const fresh = new Set<string>();
    for (const { event: e } of items) {
      if (!e) continue;
      const k = taskKey(e.tenant, e.taskId);
      if (known.has(k) || missing.has(k) || fresh.has(k)) continue;
      if (e.type === 'submitted') {
        fresh.add(k);
        continue;
      }
      const r = this.cache.get(k);
      if (r) known.set(k, r);
      else missing.add(k);
    }
    await inStatements([...missing], async (keys) => {
      const rows = await tx.query<{ k: string; record: TaskRecord }>('SELECT k, record FROM tasks WHERE k = ANY($1::text[])', [keys]);
      for (const { k, record } of rows) known.set(k, record);
    });
    return known;
  }

  async getTask(tenant: string, id: string): Promise<TaskRecord | undefined> {
    const [row] = await this.sql.query<{ record: TaskRecord }>('SELECT record FROM tasks WHERE k = $1', [taskKey(tenant, id)]);
    return row?.record;
  }

  list(tenant: string, filter?: ListFilter): Promise<ListPage> {
    return listTasks(this.sql, tenant, filter);
  }

  typeMetrics(tenant: string, type?: string): Promise<TypeMetrics[]> {
    return typeMetrics(this.sql, tenant, type);
  }

  metrics(): Promise<MetricsSnapshot> {
    return metricsSnapshot(this.sql);
  }

  async expire(before: Date, limit: number): Promise<ExpiredTask[]> {
    const rows = await this.sql.query<{ k: string; tenant: string; id: string; result_blob: boolean; cp: number }>(
      `DELETE FROM tasks WHERE k IN (SELECT k FROM tasks WHERE ended_at < $1 ORDER BY ended_at LIMIT $2)
       RETURNING k, tenant, id, (record ? 'resultRef') AS result_blob,
         CASE WHEN record ? 'checkpointRef' OR record ? 'partialRef' THEN COALESCE((record->>'attempt')::int, 0) ELSE 0 END AS cp`,
      [before.toISOString(), Math.max(0, Math.trunc(limit))],
    );
    for (const { k } of rows) this.cache.delete(k);
    return rows.map((r) => ({ tenant: r.tenant, id: r.id, resultBlob: r.result_blob, checkpointAttempts: r.cp }));
  }

  async close(): Promise<void> {
    this.cache.clear();
    try {
      await this.sql.close();
    } finally {
      this.release();
    }
  }
}
