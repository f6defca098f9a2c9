/** Test fixtures of the history store: events built with the contracts, and a store of each kind. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import { createTestDatabase } from '@errand/testing';
import { openHistoryStore } from './store.ts';
import type { HistoryStore, TaskChange } from './types.ts';

export const T0 = Date.parse('2025-01-01T00:00:00.000Z');
export const at = (ms: number) => new Date(T0 + ms).toISOString();
export const task = (id: string, tenant: string) => ({ taskId: id, tenant });

export function submitted(id: string, tenant: string, o: { user?: string; type?: string; ms?: number } = {}): ErrandEvent {
  return makeEvent('submitted', task(id, tenant), at(o.ms ?? 0), {
    user: o.user ?? 'u1',
    taskType: o.type ?? 'demo.sleep',
    params: {},
    priority: 5,
    timeoutMs: 1000,
    progressEveryMs: 1000,
    deliver: [],
  });
}

export type End = 'completed' | 'failed' | 'timed-out' | 'cancelled';

/** A task's whole life: submitted, queued, dispatched, started at startMs, ended at endMs. */
export function lifecycle(id: string, tenant: string, o: { type?: string; startMs: number; endMs: number; end: End }): ErrandEvent[] {
  const t = task(id, tenant);
  const events: ErrandEvent[] = [
    submitted(id, tenant, { type: o.type }),
    makeEvent('queued', t, at(1), { position: 0 }),
    makeEvent('dispatched', t, at(2), { attempt: 1, pool: 'default' }),
    makeEvent('started', t, at(o.startMs), { attempt: 1, workerId: 'w' }),
  ];
  if (o.end === 'completed') events.push(makeEvent('completed', t, at(o.endMs), { attempt: 1, result: 1 }));
  if (o.end === 'failed') events.push(makeEvent('failed', t, at(o.endMs), { attempt: 1, error: { code: 'x', message: 'x' }, willRetry: false }));
  if (o.end === 'timed-out') events.push(makeEvent('timed-out', t, at(o.endMs), { attempt: 1, timeoutMs: 1000 }));
  if (o.end === 'cancelled') events.push(makeEvent('cancelled', t, at(o.endMs), { attempt: 1 }));
  return events;
}

/** Apply events as the log's next sequences, in one batch; returns the changes and the sequences used. */
export async function feed(store: HistoryStore, events: (ErrandEvent | undefined)[]): Promise<{ changes: TaskChange[]; first: number }> {
  const applied = await store.appliedSeq();
  const items = events.map((event, i) => ({ seq: applied + 1 + i, event }));
  const changes = await store.apply(items, applied + events.length, applied);
  return { changes, first: applied + 1 };
}

export const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

export interface Backend {
  name: 'embedded' | 'postgres';
  open(): Promise<HistoryStore>;
  /** what a second opener passes (the same folder or database) */
  options: { dataDir: string; databaseUrl?: string };
  cleanup(): Promise<void>;
}

export async function embeddedBackend(): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'errand-history-'));
  return {
    name: 'embedded',
    options: { dataDir },
    open: () => openHistoryStore({ dataDir }),
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** A database of its own on the test server (`createTestDatabase`), dropped by `cleanup`. */
export async function postgresBackend(): Promise<Backend> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'errand-history-'));
  return {
    name: 'postgres',
    options: { dataDir, databaseUrl: db.url },
    open: () => openHistoryStore({ dataDir, databaseUrl: db.url }),
    cleanup: async () => {
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
