import { z } from 'zod';
import { DEFAULTS, taskTypeInfoSchema, type TaskTypeInfo } from '@errand/contracts';
import type { Logger } from '@errand/runtime';

/** What a handler gets for one attempt of one task. */
export interface TaskContext<P = unknown> {
  /** the params, parsed by the type's zod schema */
  params: P;
  /** fires on cancel, timeout, supersession or shutdown; `signal.reason` is a TaskAbortedError */
  signal: AbortSignal;
  /** report progress (0-100); throttled to one event per 250 ms, the first and last always written */
  progress(percent: number, message?: string): void;
  /** store an intermediate result (JSON); handed back as `resume` to a later attempt */
  checkpoint(value: unknown): Promise<void>;
  /** the last checkpoint when this attempt resumes one, else undefined */
  resume: unknown;
  attempt: number;
  taskId: string;
  tenant: string;
  user: string;
  log: Logger;
}

export interface TaskTypeDefaults {
  timeoutMs?: number;
  priority?: number;
  maxAttempts?: number;
  pool?: string;
  progressEveryMs?: number;
}

/** A task type: a name, a zod schema of its params, defaults and a handler. */
export interface TaskType<S extends z.ZodType = z.ZodType, R = unknown> {
  name: string;
  description?: string;
  params: S;
  defaults: TaskTypeDefaults;
  run(ctx: TaskContext<z.output<S>>): Promise<R> | R;
}

/** Define a task type (typed params for `run`). Checked when the worker starts. */
export function defineTaskType<S extends z.ZodType, R>(def: TaskType<S, R>): TaskType<S, R> {
  return def;
}

// Registries hold types of any params; `run` is called with params its own schema parsed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTaskType = TaskType<any, unknown>;

/** What the worker publishes to KV `errand_types` for one type. */
export function typeInfo(t: AnyTaskType, now: Date): TaskTypeInfo {
  const paramsSchema = z.toJSONSchema(t.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return taskTypeInfoSchema.parse({
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    paramsSchema,
    pool: t.defaults.pool ?? DEFAULTS.pool,
    defaults: {
      timeoutMs: t.defaults.timeoutMs ?? DEFAULTS.timeoutMs,
      priority: t.defaults.priority ?? DEFAULTS.priority,
      maxAttempts: t.defaults.maxAttempts ?? DEFAULTS.maxAttempts,
      ...(t.defaults.progressEveryMs ? { progressEveryMs: t.defaults.progressEveryMs } : {}),
    },
    updatedAt: now.toISOString(),
  });
}

/** Build the registry: later types with the same name replace earlier ones. Throws on a broken definition. */
export function buildRegistry(types: AnyTaskType[], now = new Date()): Map<string, AnyTaskType> {
  const reg = new Map<string, AnyTaskType>();
  for (const t of types) {
    typeInfo(t, now); // a name, pool or schema that cannot be published is a start-up error
    reg.set(t.name, t);
  }
  return reg;
}
