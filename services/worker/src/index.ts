export { buildWorker, type Worker, type WorkerOptions } from './app.ts';
export { defineTaskType, typeInfo, type TaskType, type TaskContext, type TaskTypeDefaults, type AnyTaskType } from './registry.ts';
export { TaskError, TaskAbortedError, type AbortKind } from './errors.ts';
export { builtinTypes, noopType, sleepType, reportType } from './types/index.ts';
