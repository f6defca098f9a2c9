import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server tests use: this machine's, or PGTEST_URL's (a maintenance database: `postgres`). */
const ADMIN_URL = process.env.PGTEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** postgres://… of the new database */
  url: string;
  name: string;
  /** Drop it (its connections are ended first). */
  drop(): Promise<void>;
}

/** A database of its own for one test file: `errand_test_<random>`, dropped by `drop()`. */
export async function createTestDatabase(prefix = 'errand_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await c.end();
      }
    },
  };
}
