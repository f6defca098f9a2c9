import { z } from 'zod';
import { tokenSchema, taskTypeNameSchema } from './tokens.ts';

/**
 * A task type as workers publish it (KV `errand_types`, key = type name), so
 * that the intake validates params and the scheduler knows the type's pool
 * and defaults without importing handler code.
 */
export const taskTypeInfoSchema = z.object({
  name: taskTypeNameSchema,
  description: z.string().optional(),
  /** JSON Schema (draft 2020-12) of `params` */
  paramsSchema: z.record(z.string(), z.unknown()),
  pool: tokenSchema,
  defaults: z.object({
    timeoutMs: z.number().int().positive(),
    priority: z.number().int().min(0).max(9),
    maxAttempts: z.number().int().min(1),
    progressEveryMs: z.number().int().positive().optional(),
  }),
  /** when a worker last (re)published it */
  updatedAt: z.string(),
});
export type TaskTypeInfo = z.infer<typeof taskTypeInfoSchema>;

/** The message the scheduler puts on `errand.work.<pool>` for one attempt. */
export const workMessageSchema = z.object({
  taskId: tokenSchema,
  tenant: tokenSchema,
  user: tokenSchema,
  taskType: taskTypeNameSchema,
  params: z.unknown(),
  attempt: z.number().int().min(1),
  maxAttempts: z.number().int().min(1),
  timeoutMs: z.number().int().positive(),
  /** stream sequence of this attempt's `dispatched` event: `started` must come right after it */
  dispatchSeq: z.number().int().positive(),
  /** ref of the last checkpoint, handed to the handler as `ctx.resume` */
  resume: z.string().optional(),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
});
export type WorkMessage = z.infer<typeof workMessageSchema>;

/**
 * Core-NATS liveness beat of one worker, every ERRAND_HEARTBEAT_MS: the attempts
 * it is running, and the task types it serves with its free slots (what makes a
 * type live). A worker that stops sends one last beat with `stopping: true`, so
 * its types go offline at once where no other worker serves them.
 */
export const heartbeatSchema = z.object({
  workerId: z.string(),
  at: z.string(),
  tasks: z.array(z.object({ taskId: z.string(), tenant: z.string(), attempt: z.number().int() })),
  /** names of the task types this worker serves (each on its type's pool) */
  types: z.array(taskTypeNameSchema).default([]),
  /** the worker's task slots, and how many are free now */
  slots: z.number().int().min(0).default(0),
  freeSlots: z.number().int().min(0).default(0),
  stopping: z.boolean().optional(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/**
 * Core-NATS note of the scheduler leader (subject `decided`), sent once its
 * `queued` and `rejected` events are in the log: a submit waiting for its
 * decision is answered from it at once, instead of when the history store
 * has applied the event. Only a shortcut: a lost note leaves the wait to the
 * store. `q` is the event's sequence, `p` the queue position, `c`/`m` a
 * rejection's code and message.
 */
export const decidedNoteSchema = z.object({
  d: z.array(
    z.object({
      t: z.string(),
      i: z.string(),
      s: z.enum(['queued', 'rejected']),
      q: z.number().int().min(1),
      p: z.number().int().min(0).optional(),
      c: z.string().optional(),
      m: z.string().optional(),
    }),
  ),
});
export type DecidedNote = z.infer<typeof decidedNoteSchema>;
