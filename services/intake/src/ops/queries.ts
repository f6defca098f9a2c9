import {
  ErrandError,
  invalid,
  isToken,
  kvKeys,
  listQuerySchema,
  type TaskView,
} from '@errand/contracts';
import { BadCursor } from '@errand/history';
import type { IntakeContext } from '../context.ts';
import { withWaitingOn } from './waiting.ts';
import { listView } from './results.ts';

export async function list(ctx: IntakeContext, tenant: string, raw: unknown): Promise<{ items: TaskView[]; nextCursor: string | null }> {
  const q = listQuerySchema.safeParse(raw ?? {});
  if (!q.success) throw invalid('the list query does not fit its schema', q.error);
  try {
    const page = await ctx.readModel.list(tenant, q.data);
    return { items: await withWaitingOn(ctx, page.items.map((r) => listView(r))), nextCursor: page.nextCursor };
  } catch (err) {
    if (err instanceof BadCursor) throw new ErrandError('invalid', err.message, { details: [{ path: 'cursor', message: err.message }] });
    throw err;
  }
}

/** Registered task types (live or not), their params schema, defaults, liveness, and the durations this tenant observed. */
export async function taskTypes(ctx: IntakeContext, tenant: string) {
  const metrics = new Map((await ctx.readModel.typeMetrics(tenant)).map((m) => [m.type, m]));
  return {
    items: ctx.types.list().map(({ info: t, live, workers, freeSlots, lastSeenAt }) => {
      const m = metrics.get(t.name)?.completionMs;
      return {
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        paramsSchema: t.paramsSchema,
        pool: t.pool,
        defaults: t.defaults,
        observedDurationMs: { count: m?.count ?? 0, avg: m?.avg ?? null, p50: m?.p50 ?? null, p95: m?.p95 ?? null },
        live,
        workers,
        freeSlots,
        lastSeenAt,
      };
    }),
  };
}

export async function metricsSummary(ctx: IntakeContext, tenant: string) {
  const items = await ctx.readModel.typeMetrics(tenant);
  return { byType: Object.fromEntries(items.map(({ type, ...m }) => [type, m])) };
}

/** What `memory` deliveries kept for one user: `[{taskId, value}]`. */
export async function memoryOfUser(ctx: IntakeContext, tenant: string, user: unknown) {
  if (!isToken(user)) {
    throw new ErrandError('invalid', 'the query parameter "user" is required and must be a token', {
      details: [{ path: 'user', message: 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"' }],
    });
  }
  const kv = ctx.stores.memory;
  const keys: string[] = [];
  for await (const k of await kv.keys(kvKeys.memoryOfUser(tenant, user))) keys.push(k);
  const items = [];
  for (const k of keys.sort()) {
    const e = await kv.get(k);
    if (e && e.operation === 'PUT') items.push({ taskId: k.slice(k.lastIndexOf('.') + 1), value: parse(e.string()) });
  }
  return { user, items };
}

export async function memoryOfTask(ctx: IntakeContext, tenant: string, taskId: string) {
  const r = await ctx.readModel.readYourWrites(tenant, taskId);
  const e = await ctx.stores.memory.get(kvKeys.memory(tenant, r.user, taskId));
  if (!e || e.operation !== 'PUT') throw new ErrandError('not_found', `nothing kept in memory for task ${taskId}`);
  return { taskId, user: r.user, value: parse(e.string()) };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
