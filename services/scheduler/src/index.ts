export { buildScheduler, limitsFrom, type Scheduler } from './app.ts';
export { SchedulerRuntime } from './runtime.ts';
/** the pure decision, for benchmarks and tools that replay a log */
export { decide, type Command, type DecideInput, type Limits } from './domain/decide.ts';
export { explain } from './domain/explain.ts';
export { evolve, initialState, type SchedState } from './domain/state.ts';
