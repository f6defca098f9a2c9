import { z } from 'zod';
import { tokenSchema, taskTypeNameSchema } from './tokens.ts';
import { storedTargetSchema } from './targets.ts';

/** ISO-8601 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const isoSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'ISO-8601 UTC with ms');
const attempt = z.number().int().min(1);
const common = { taskId: tokenSchema, tenant: tokenSchema, at: isoSchema };
const errorInfo = z.object({ code: z.string().min(1).max(100), message: z.string().max(4000) });

export const submittedSchema = z.object({
  type: z.literal('submitted'),
  ...common,
  user: tokenSchema,
  taskType: taskTypeNameSchema,
  params: z.unknown(),
  priority: z.number().int().min(0).max(9),
  timeoutMs: z.number().int().positive(),
  progressEveryMs: z.number().int().positive(),
  deliver: z.array(storedTargetSchema),
  idempotencyKey: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export const queuedSchema = z.object({ type: z.literal('queued'), ...common, position: z.number().int().min(0) });
export const rejectedSchema = z.object({
  type: z.literal('rejected'),
  ...common,
  code: z.enum(['queue_full', 'unknown_type', 'invalid']),
  message: z.string(),
});
export const dispatchedSchema = z.object({ type: z.literal('dispatched'), ...common, attempt, pool: tokenSchema });
export const startedSchema = z.object({
  type: z.literal('started'),
  ...common,
  attempt,
  workerId: z.string().min(1),
  resumedFrom: z.string().optional(),
});
export const progressSchema = z.object({
  type: z.literal('progress'),
  ...common,
  attempt,
  percent: z.number().min(0).max(100),
  message: z.string().max(1000).optional(),
  etaMs: z.number().int().min(0).optional(),
});
export const checkpointSchema = z.object({
  type: z.literal('checkpoint'),
  ...common,
  attempt,
  percent: z.number().min(0).max(100).optional(),
  ref: z.string().min(1),
  bytes: z.number().int().min(0),
});
export const cancelRequestedSchema = z.object({
  type: z.literal('cancel-requested'),
  ...common,
  by: z.string().min(1),
  reason: z.string().max(1000).optional(),
  /** an addition to DESIGN.md's payload: the cancel body's `discardPartial` */
  discardPartial: z.boolean().optional(),
});
export const retryRequestedSchema = z.object({ type: z.literal('retry-requested'), ...common, by: z.string().min(1) });
export const cancelledSchema = z.object({
  type: z.literal('cancelled'),
  ...common,
  attempt: attempt.optional(),
  partial: z.string().optional(),
});
export const timedOutSchema = z.object({
  type: z.literal('timed-out'),
  ...common,
  attempt,
  timeoutMs: z.number().int().positive(),
  partial: z.string().optional(),
});
export const failedSchema = z.object({
  type: z.literal('failed'),
  ...common,
  attempt,
  error: errorInfo,
  willRetry: z.boolean(),
});
export const retryScheduledSchema = z.object({
  type: z.literal('retry-scheduled'),
  ...common,
  attempt,
  notBefore: isoSchema,
});
export const completedSchema = z.object({
  type: z.literal('completed'),
  ...common,
  attempt,
  result: z.unknown().optional(),
  resultRef: z.string().optional(),
});
const deliveryTarget = z.object({
  index: z.number().int().min(0),
  kind: z.string(),
  name: z.string().optional(),
});
const deliveryCommon = {
  ...common,
  target: deliveryTarget,
  of: z.string(),
  deliveryId: z.string().min(1),
  tries: z.number().int().min(0),
  error: z.string().optional(),
};
export const deliveredSchema = z.object({ type: z.literal('delivered'), ...deliveryCommon });
export const deliveryFailedSchema = z.object({ type: z.literal('delivery-failed'), ...deliveryCommon });

export const eventSchema = z.discriminatedUnion('type', [
  submittedSchema,
  queuedSchema,
  rejectedSchema,
  dispatchedSchema,
  startedSchema,
  progressSchema,
  checkpointSchema,
  cancelRequestedSchema,
  retryRequestedSchema,
  cancelledSchema,
  timedOutSchema,
  failedSchema,
  retryScheduledSchema,
  completedSchema,
  deliveredSchema,
  deliveryFailedSchema,
]);

export type ErrandEvent = z.infer<typeof eventSchema>;
export type EventType = ErrandEvent['type'];
export type EventOf<T extends EventType> = Extract<ErrandEvent, { type: T }>;
export type Submitted = EventOf<'submitted'>;

/** Events that end a task (until a `retry-requested` reopens it). */
export const TERMINAL_TYPES = ['completed', 'failed', 'cancelled', 'timed-out', 'rejected'] as const;
export type TerminalType = (typeof TERMINAL_TYPES)[number];

/** True when the event ends its task; a `failed` with `willRetry` does not. */
export function isTerminalEvent(e: ErrandEvent): boolean {
  switch (e.type) {
    case 'completed':
    case 'cancelled':
    case 'timed-out':
    case 'rejected':
      return true;
    case 'failed':
      return !e.willRetry;
    default:
      return false;
  }
}

/** An event without its common fields, for builders. */
export type EventPayload<T extends EventType> = Omit<EventOf<T>, 'type' | 'taskId' | 'tenant' | 'at'>;
