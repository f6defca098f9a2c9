/**
 * `@errand/worker`: serve your own task types. Define each with
 * `defineTaskType`, then `startWorker({ types })`.
 */
export { z } from 'zod';
export { defineTaskType, type TaskType, type TaskTypeDefinition, type TaskTypeDefaults, type TaskContext } from './registry.ts';
export { startWorker, type StartWorkerOptions, type RunningWorker } from './start.ts';
export { TaskError, TaskAbortedError, WorkerStartError, type AbortKind } from './errors.ts';
export type { Logger } from '@errand/runtime';
