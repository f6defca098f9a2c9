import pg from 'pg';

/**
 * The one SQL path of the store: a query and a transaction, over a
 * PostgreSQL server (node-postgres) or PGlite alike. Every statement is
 * written once, in the PostgreSQL both speak.
 */
export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Run `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type Queryable = Pick<Sql, 'query'>;

/** A PostgreSQL server: a small pool (the projector's writes and a few reads at once). */
export function pgSql(url: string, onError: (err: Error) => void): Sql {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // an idle client's broken connection is reported here; without a listener it would crash the process
  pool.on('error', onError);
  return {
    async query<R>(text: string, params?: unknown[]) {
      return (await pool.query(text, params)).rows as R[];
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      const tx: Queryable = {
        async query<R>(text: string, params?: unknown[]) {
          return (await client.query(text, params)).rows as R[];
        },
      };
      try {
        await client.query('BEGIN');
        const out = await fn(tx);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
