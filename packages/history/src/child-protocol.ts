/**
 * The messages between an intake and its embedded store's process
 * (`pglite-child.ts`), over Node's IPC channel. Every request has a fresh
 * positive id and is answered once with that id; a transaction's `begin`
 * (id n) is answered when it is open (id n) and again when it has ended,
 * committed or not (id -n). Id 0 is the child's "open" (or its failure).
 */
export type ChildRequest =
  | { op: 'query'; id: number; text: string; params?: unknown[]; tx?: number }
  | { op: 'begin'; id: number }
  | { op: 'end'; id: number; tx: number; commit: boolean }
  | { op: 'close'; id: number };

export type ChildReply =
  | { id: number; ok: true; rows: Record<string, unknown>[] }
  | { id: number; ok: false; error: { message: string; code?: string } };

/** PGlite's defaults are a server's (shared_buffers 128MB): an intake's store needs far less. */
export const PGLITE_CONF = ['shared_buffers = 16MB', 'work_mem = 2MB', 'temp_buffers = 2MB', 'maintenance_work_mem = 16MB'] as const;
