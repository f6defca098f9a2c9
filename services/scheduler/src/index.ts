export { buildScheduler, limitsFrom, type Scheduler } from './app.ts';
export { SchedulerRuntime } from './runtime.ts';
