import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@errand/testing';
import { EmbeddedStoreError, pgliteChildSql } from './child-sql.ts';

describe('the embedded store in its own process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'errand-pglite-child-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs queries and transactions in a child process, and survives that process being killed', async () => {
    const ends: string[] = [];
    const sql = await pgliteChildSql(join(dir, 'db'), (why) => ends.push(why));
    try {
      const pid = sql.pid()!;
      expect(pid).toBeGreaterThan(0);
      expect(pid).not.toBe(process.pid);
      await sql.query('CREATE TABLE t (k int PRIMARY KEY, v text)');
      await sql.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES ($1, $2)', [1, 'one']);
        await tx.query('INSERT INTO t VALUES ($1, $2)', [2, 'two']);
      });
      // a throw rolls back
      await expect(
        sql.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES ($1, $2)', [3, 'three']);
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      // a failing statement is the store's error, with its SQLSTATE
      const dup = await sql.query('INSERT INTO t VALUES (1, $1)', ['again']).catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(EmbeddedStoreError);
      expect((dup as EmbeddedStoreError).code).toBe('23505');
      expect(await sql.query('SELECT k, v FROM t ORDER BY k')).toEqual([
        { k: 1, v: 'one' },
        { k: 2, v: 'two' },
      ]);

      process.kill(pid, 'SIGKILL');
      await waitFor(() => ends.length > 0, { what: 'the end of the store process to be told' });
      expect(ends[0]).toMatch(/embedded history store's process ended \(SIGKILL\)/);
      // the next query starts it again, on the same folder
      expect(await sql.query('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 2 }]);
      expect(sql.pid()).not.toBe(pid);
    } finally {
      await sql.close();
    }
  });
});
