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

/** Why a waiting task does not run yet, the first that holds, in this order (DESIGN.md task view). */
export const WAITING_REASONS = ['undecided', 'retry_backoff', 'no_worker', 'type_limit', 'tenant_limit', 'concurrency', 'priority'] as const;
export type WaitingReason = (typeof WAITING_REASONS)[number];

export const waitingOnSchema = z.object({
  reason: z.enum(WAITING_REASONS),
  /** tasks that go first (reason `priority`, and where known for the limits) */
  ahead: z.number().int().min(0).optional(),
  /** ISO time of the next attempt (reason `retry_backoff`) */
  until: z.string().optional(),
  /** a readable sentence: "3 tasks ahead; all 3 slots of tenant acme are busy" */
  message: z.string(),
});
export type WaitingOn = z.infer<typeof waitingOnSchema>;

/** The intake asks the scheduler leader (core NATS, `subjects.waiting`) why these tasks wait. */
export const waitingRequestSchema = z.object({ tasks: z.array(z.object({ tenant: z.string(), id: z.string() })).max(1000) });
export type WaitingRequest = z.infer<typeof waitingRequestSchema>;
/** Keyed by task id; a task the scheduler does not hold as waiting is absent. */
export const waitingReplySchema = z.object({ items: z.record(z.string(), waitingOnSchema) });
export type WaitingReply = z.infer<typeof waitingReplySchema>;

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
  /** a result too large for the view is left out: read it at this path (`GET /v1/tasks/:id/result`) */
  resultUrl: z.string().optional(),
  /** its size, bytes of JSON */
  resultBytes: z.number().optional(),
  partialResult: z.unknown().optional(),
  /** the same for a partial result too large for the view */
  partialResultUrl: z.string().optional(),
  partialResultBytes: z.number().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  deliveries: z.array(deliveryViewSchema),
  /** present while `submitted`, `queued` or `retrying` */
  waitingOn: waitingOnSchema.optional(),
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
