/**
 * The embedded store's own process: PGlite (PostgreSQL compiled to
 * WebAssembly, 130+ MiB of memory before the first row) opened in the folder
 * given as the first argument, answering its parent's queries over the IPC
 * channel (`ChildRequest` -> `ChildReply`, see `child-sql.ts`). It ends when
 * its parent goes (the channel closes) or asks it to.
 */
import { cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { ChildReply, ChildRequest } from './child-protocol.ts';
import { PGLITE_CONF } from './child-protocol.ts';
import { takeLock } from './lock.ts';

/** How long a new store process waits for an old one (its intake killed) to close the folder. */
const WAIT_FOR_OLD_MS = 15_000;

const dir = process.argv[2];
if (!dir || !process.send) {
  process.stderr.write('pglite-child: started without a folder or an IPC channel\n');
  process.exit(2);
}

const send = (r: ChildReply) => process.send!(r);
const fail = (id: number, err: unknown) => {
  const e = err as { message?: string; code?: string };
  send({ id, ok: false, error: { message: e?.message ?? String(err), ...(e?.code !== undefined ? { code: e.code } : {}) } });
};

interface OpenTx {
  tx: Transaction;
  end: (commit: boolean) => void;
}

/**
 * The folder's own lock, held by this process: the intake's lock keeps a
 * second intake out, this one keeps a new store process from opening the
 * folder while the last one (whose intake was killed) is still closing it.
 */
async function lockFolder(): Promise<() => void> {
  const deadline = Date.now() + WAIT_FOR_OLD_MS;
  for (;;) {
    try {
      return takeLock(`${dir!}.open.lock`, dir!);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** PGlite's version: a template made by another version is not used. */
function pgliteVersion(): string {
  try {
    const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * A new folder is a copy of an empty store made once per machine and PGlite
 * version (in the temporary folder): PGlite's `initdb` costs 5–10 s of CPU,
 * a copy a fraction of a second. The template is written aside and renamed
 * into place, so a half-made one is never used.
 */
async function seed(): Promise<void> {
  if (existsSync(join(dir!, 'PG_VERSION'))) return;
  const template = join(tmpdir(), `errand-pglite-template-${pgliteVersion()}`);
  if (existsSync(join(template, 'PG_VERSION'))) {
    try {
      cpSync(template, dir!, { recursive: true });
      return;
    } catch {
      rmSync(dir!, { recursive: true, force: true });
    }
  }
  const fresh = await PGlite.create(dir!, { postgresqlconf: [...PGLITE_CONF] });
  await fresh.close();
  const aside = `${template}.${process.pid}`;
  try {
    cpSync(dir!, aside, { recursive: true });
    renameSync(aside, template);
  } catch {
    // another process made it first, or the temporary folder is not writable: no template this time
    rmSync(aside, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let db: PGlite;
  try {
    const release = await lockFolder();
    process.once('exit', release);
    await seed();
    db = await PGlite.create(dir!, { postgresqlconf: [...PGLITE_CONF] });
  } catch (err) {
    send({ id: 0, ok: false, error: { message: `PGlite could not open ${dir}: ${(err as Error).message}` } });
    process.exit(1);
  }
  const txs = new Map<number, OpenTx>();
  const ROLLBACK = new Error('rolled back by the parent');

  process.on('message', (m: ChildRequest) => {
    switch (m.op) {
      case 'query': {
        const tx = m.tx === undefined ? undefined : txs.get(m.tx);
        if (m.tx !== undefined && !tx) return fail(m.id, new Error(`no open transaction ${m.tx}`));
        (tx ? tx.tx : db).query(m.text, m.params).then(
          (r) => send({ id: m.id, ok: true, rows: r.rows as Record<string, unknown>[] }),
          (err: unknown) => fail(m.id, err),
        );
        return;
      }
      case 'begin': {
        // the transaction stays open until the parent says commit or rollback; its reply is sent then
        let opened = false;
        db.transaction(
          (tx) =>
            new Promise<void>((resolve, reject) => {
              opened = true;
              txs.set(m.id, { tx, end: (commit) => (commit ? resolve() : reject(ROLLBACK)) });
              send({ id: m.id, ok: true, rows: [] });
            }),
        ).then(
          () => {
            txs.delete(m.id);
            send({ id: -m.id, ok: true, rows: [] });
          },
          (err: unknown) => {
            txs.delete(m.id);
            if (err === ROLLBACK) send({ id: -m.id, ok: true, rows: [] });
            else if (!opened) fail(m.id, err);
            else fail(-m.id, err);
          },
        );
        return;
      }
      case 'end': {
        // answered by the transaction's own end (id -tx)
        const tx = txs.get(m.tx);
        if (!tx) return fail(-m.tx, new Error(`no open transaction ${m.tx}`));
        tx.end(m.commit);
        return;
      }
      case 'close':
        void db.close().finally(() => {
          send({ id: m.id, ok: true, rows: [] });
          process.exit(0);
        });
        return;
    }
  });
  // the parent is gone: close cleanly (PGlite writes through to the folder)
  process.on('disconnect', () => void db.close().finally(() => process.exit(0)));
  send({ id: 0, ok: true, rows: [] });
}

void main();
