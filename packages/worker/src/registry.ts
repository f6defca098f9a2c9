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
  /** 1 for the first attempt */
  attempt: number;
  taskId: string;
  tenant: string;
  user: string;
  /** a logger whose lines carry the task id, tenant and attempt */
  log: Logger;
}

/** Defaults a task type gives its tasks (a submit may override all but `pool`). */
export interface TaskTypeDefaults {
  /** time limit of one task (default 10 minutes) */
  timeoutMs?: number;
  /** 0-9, 9 runs first (default 5) */
  priority?: number;
  /** attempts for handler errors (default 3) */
  maxAttempts?: number;
  /** the pool whose workers run it; wins over the worker's own `pool` */
  pool?: string;
  /** how often progress is delivered to the task's targets */
  progressEveryMs?: number;
}

/** What `defineTaskType` takes: a name, a zod schema of the params, defaults and the handler. */
export interface TaskTypeDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  /** `^[A-Za-z][A-Za-z0-9_.-]{0,63}$`, e.g. `docs.summarise` */
  name: string;
  /** shown in `GET /v1/task-types` and as the MCP tool's description */
  description?: string;
  /** the params' schema: checked at submit (as JSON Schema) and before `run` */
  params: S;
  defaults?: TaskTypeDefaults;
  /** the handler: its return value is the task's result (JSON) */
  run(ctx: TaskContext<z.output<S>>): Promise<R> | R;
}

/** A task type as a worker serves it. */
export interface TaskType<S extends z.ZodType = z.ZodType, R = unknown> extends TaskTypeDefinition<S, R> {
  defaults: TaskTypeDefaults;
}

/** Define a task type (typed params for `run`). Checked when the worker starts. */
export function defineTaskType<S extends z.ZodType, R>(def: TaskTypeDefinition<S, R>): TaskType<S, R> {
  return { ...def, defaults: { ...def.defaults } };
}

// Registries hold types of any params; `run` is called with params its own schema parsed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTaskType = TaskType<any, unknown>;

/** The JSON Schema of a type's params, as the intake checks them (input side: defaults optional). */
export function paramsJsonSchema(t: Pick<AnyTaskType, 'params'>): Record<string, unknown> {
  return z.toJSONSchema(t.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** What the worker publishes to KV `errand_types` for one type; `pool` = the type's own or the worker's. */
export function typeInfo(t: AnyTaskType, now: Date, workerPool: string = DEFAULTS.pool): TaskTypeInfo {
  return taskTypeInfoSchema.parse({
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    paramsSchema: paramsJsonSchema(t),
    pool: t.defaults.pool ?? workerPool,
    defaults: {
      timeoutMs: t.defaults.timeoutMs ?? DEFAULTS.timeoutMs,
      priority: t.defaults.priority ?? DEFAULTS.priority,
      maxAttempts: t.defaults.maxAttempts ?? DEFAULTS.maxAttempts,
      ...(t.defaults.progressEveryMs ? { progressEveryMs: t.defaults.progressEveryMs } : {}),
    },
    updatedAt: now.toISOString(),
  });
}
