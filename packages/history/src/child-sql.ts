import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildReply, ChildRequest } from './child-protocol.ts';
import type { Queryable, Sql } from './sql.ts';

/** An error the store's process reported (or its end), with PostgreSQL's SQLSTATE when there is one. */
export class EmbeddedStoreError extends Error {
  override name = 'EmbeddedStoreError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A request before its id is given (Omit of each member of the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Pending {
  resolve: (rows: Record<string, unknown>[]) => void;
  reject: (err: Error) => void;
}

/** The child's entry: the TypeScript source under the development condition, the build's JavaScript otherwise. */
function childEntry(): { file: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.ts')) return { file: self.replace(/child-sql\.ts$/, 'pglite-child.ts'), execArgv: ['--conditions=development', '--import', 'tsx'] };
  return { file: self.replace(/child-sql\.js$/, 'pglite-child.js'), execArgv: [] };
}

/**
 * The embedded store in a process of its own (`pglite-child.ts`): PGlite's
 * WebAssembly heap (130+ MiB) stays out of the intake. Queries and
 * transactions go over the IPC channel. When the child dies every pending
 * query fails with EmbeddedStoreError, and the next query starts a new one
 * (the folder is the same: nothing is lost that was committed).
 */
export async function pgliteChildSql(dir: string, onExit: (why: string) => void = () => undefined): Promise<Sql & { pid(): number | undefined }> {
  let child: ChildProcess | undefined;
  let starting: Promise<ChildProcess> | undefined;
  let nextId = 1;
  let closed = false;
  let closing = false;
  const pending = new Map<number, Pending>();

  const start = (): Promise<ChildProcess> => {
    starting ??= new Promise<ChildProcess>((resolve, reject) => {
      const { file, execArgv } = childEntry();
      const c = fork(file, [dir], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let open = false;
      c.on('message', (m: ChildReply) => {
        if (m.id === 0) {
          if (m.ok) {
            open = true;
            child = c;
            resolve(c);
          } else reject(new EmbeddedStoreError(m.error.message));
          return;
        }
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.ok) p.resolve(m.rows);
        else p.reject(new EmbeddedStoreError(m.error.message, m.error.code));
      });
      c.once('exit', (code, signal) => {
        const why = `the embedded history store's process ended (${signal ?? `exit code ${code}`})`;
        if (child === c) child = undefined;
        starting = undefined;
        if (!open) reject(new EmbeddedStoreError(why));
        for (const p of pending.values()) p.reject(new EmbeddedStoreError(why));
        pending.clear();
        if (!closing) onExit(why);
      });
    });
    return starting;
  };

  const call = async (req: Unnumbered<ChildRequest>, id = nextId++): Promise<Record<string, unknown>[]> => {
    if (closed) throw new EmbeddedStoreError('the embedded history store is closed');
    const c = child ?? (await start());
    return await new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      c.send({ ...req, id } as ChildRequest, (err) => {
        if (!err) return;
        pending.delete(id);
        reject(new EmbeddedStoreError(`the embedded history store cannot be reached: ${err.message}`));
      });
    });
  };

  await start();
  return {
    pid: () => child?.pid,
    async query<R>(text: string, params?: unknown[]) {
      return (await call({ op: 'query', text, ...(params ? { params } : {}) })) as R[];
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const tx = nextId++;
      // the end's answer (id -tx) is awaited from the start: it may come first when the child fails
      const ended = new Promise<Record<string, unknown>[]>((resolve, reject) => pending.set(-tx, { resolve, reject }));
      ended.catch(() => undefined);
      await call({ op: 'begin' }, tx).catch((err: unknown) => {
        pending.delete(-tx);
        throw err;
      });
      const q: Queryable = {
        async query<R>(text: string, params?: unknown[]) {
          return (await call({ op: 'query', text, tx, ...(params ? { params } : {}) })) as R[];
        },
      };
      let out: T;
      try {
        out = await fn(q);
      } catch (err) {
        child?.send({ op: 'end', id: nextId++, tx, commit: false } satisfies ChildRequest);
        await ended.catch(() => undefined);
        throw err;
      }
      child?.send({ op: 'end', id: nextId++, tx, commit: true } satisfies ChildRequest);
      await ended;
      return out;
    },
    async close() {
      if (closing) return;
      closing = true;
      if (child) await call({ op: 'close' }).catch(() => undefined);
      closed = true;
    },
  };
}
