import { z } from 'zod';
import { tokenSchema, taskTypeNameSchema } from './tokens.ts';
import { targetInputSchema } from './targets.ts';

export const PRIORITY_NAMES = { high: 8, normal: 5, low: 2 } as const;
export const prioritySchema = z.union([
  z.enum(['high', 'normal', 'low']),
  z.number().int().min(0).max(9),
]);
export type PriorityInput = z.infer<typeof prioritySchema>;
export function priorityNumber(p: PriorityInput): number {
  return typeof p === 'number' ? p : PRIORITY_NAMES[p];
}

export const DEFAULTS = {
  timeoutMs: 600_000,
  progressEveryMs: 10_000,
  priority: 5,
  maxAttempts: 3,
  pool: 'default',
  user: 'default',
  maxBodyBytes: 512 * 1024,
  maxTargets: 10,
  minProgressEveryMs: 250,
} as const;

/** The body of `POST /v1/tasks` and `errand.api.<tenant>.submit`. */
export const submitBodySchema = z.strictObject({
  type: taskTypeNameSchema,
  params: z.unknown().optional(),
  user: tokenSchema.optional(),
  priority: prioritySchema.optional(),
  timeoutMs: z.number().int().min(1).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
  progressEveryMs: z.number().int().min(DEFAULTS.minProgressEveryMs).max(86_400_000).optional(),
  deliver: z.array(targetInputSchema).max(DEFAULTS.maxTargets).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type SubmitBody = z.infer<typeof submitBodySchema>;

/** The most tasks one batch submit may carry (DESIGN.md). */
export const MAX_BATCH = 1_000;

/**
 * The body of `POST /v1/tasks/batch` and `errand.api.<tenant>.submit-batch`:
 * the items stay unparsed here, each is checked on its own (one bad item
 * refuses only itself).
 */
export const submitBatchBodySchema = z.strictObject({
  tasks: z.array(z.unknown()).min(1, 'send at least one task').max(MAX_BATCH, `at most ${MAX_BATCH} tasks per batch`),
});
export type SubmitBatchBody = { tasks: SubmitBody[] };

export const idBodySchema = z.strictObject({ id: tokenSchema });
export const cancelBodySchema = z.strictObject({
  reason: z.string().max(1000).optional(),
  discardPartial: z.boolean().optional(),
});
export const natsCancelBodySchema = cancelBodySchema.extend({ id: tokenSchema });

export const TASK_STATES = [
  'submitted',
  'queued',
  'dispatched',
  'running',
  'retrying',
  'completed',
  'failed',
  'cancelled',
  'timed-out',
  'rejected',
] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const TERMINAL_STATES: readonly TaskState[] = ['completed', 'failed', 'cancelled', 'timed-out', 'rejected'];
export function isTerminalState(s: TaskState): boolean {
  return TERMINAL_STATES.includes(s);
}

export const listQuerySchema = z.strictObject({
  state: z.enum(TASK_STATES).optional(),
  user: tokenSchema.optional(),
  type: taskTypeNameSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().max(200).optional(),
});
export type ListQuery = z.infer<typeof listQuerySchema>;
