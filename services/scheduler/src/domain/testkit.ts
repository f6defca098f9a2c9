/** Fixtures of the scheduler's decider tests (never built into dist/). */
import type { TaskTypeInfo } from '@errand/contracts';
import type { Limits } from './decide.ts';

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** The limits of a test: the defaults of DESIGN.md, with what the test changes. */
export function testLimits(over: Partial<Limits> = {}): Limits {
  return {
    concurrency: 1,
    maxPendingPerUser: 10,
    typeConcurrency: new Map(),
    leaseMs: 20_000,
    cancelGraceMs: 10_000,
    timeoutSlackMs: 2_000,
    retryBaseMs: 1_000,
    retryMaxMs: 30_000,
    defaultMaxAttempts: 3,
    ...over,
  };
}

/** A registered task type on the default pool. */
export function typeInfo(name: string, o: { maxAttempts?: number; timeoutMs?: number } = {}): TaskTypeInfo {
  return {
    name,
    paramsSchema: {},
    pool: 'default',
    defaults: { timeoutMs: o.timeoutMs ?? 600_000, priority: 5, maxAttempts: o.maxAttempts ?? 3 },
    updatedAt: new Date(T0).toISOString(),
  };
}
