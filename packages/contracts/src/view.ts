import { z } from 'zod';
import type { TaskRecord } from './task.ts';
import { TASK_STATES } from './submit.ts';

const deliveryViewSchema = z.object({
  index: z.number(),
  kind: z.string(),
  name: z.string().optional(),
  state: z.enum(['pending', 'delivered', 'failed']),
  tries: z.number(),
  lastError: z.string().optional(),
});

/** The task view of DESIGN.md (status answers, list items, webhook `task`). */
export const taskViewSchema = z.object({
  id: z.string(),
  type: z.string(),
  tenant: z.string(),
  user: z.string(),
  priority: z.number(),
  state: z.enum(TASK_STATES),
  position: z.number().optional(),
  progress: z.object({ percent: z.number(), message: z.string().nullable(), etaMs: z.number().nullable() }),
  attempt: z.number(),
  createdAt: z.string(),
  queuedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  waitMs: z.number().nullable(),
  runMs: z.number().nullable(),
  result: z.unknown().optional(),
  partialResult: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  deliveries: z.array(deliveryViewSchema),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

function msBetween(a: string | undefined, b: string | undefined): number | null {
  if (!a || !b) return null;
  return Date.parse(b) - Date.parse(a);
}

/**
 * Project a record to the public view. `partialResult` is filled by the caller
 * that can load checkpoint contents; here it is the ref only when given.
 */
export function toView(r: TaskRecord, extra: { partialResult?: unknown; result?: unknown } = {}): TaskView {
  const view: TaskView = {
    id: r.id,
    type: r.type,
    tenant: r.tenant,
    user: r.user,
    priority: r.priority,
    state: r.state,
    progress: { percent: r.progress.percent, message: r.progress.message ?? null, etaMs: r.progress.etaMs ?? null },
    attempt: r.attempt,
    createdAt: r.createdAt,
    queuedAt: r.queuedAt ?? null,
    startedAt: r.firstStartedAt ?? null,
    finishedAt: r.finishedAt ?? null,
    waitMs: msBetween(r.createdAt, r.firstStartedAt),
    runMs: r.finishedAt ? msBetween(r.firstStartedAt, r.finishedAt) : null,
    deliveries: r.deliveries.map((d) => ({ ...d })),
  };
  if (r.state === 'queued' && r.position !== undefined) view.position = r.position;
  const result = extra.result !== undefined ? extra.result : r.result;
  if (r.state === 'completed' && result !== undefined) view.result = result;
  if (extra.partialResult !== undefined) view.partialResult = extra.partialResult;
  if (r.error) view.error = r.error;
  if (r.metadata) view.metadata = r.metadata;
  return view;
}
