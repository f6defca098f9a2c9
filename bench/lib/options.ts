/** Bench options, all from the environment so one can run part of the bench. */
export const PARTS = ['errand', 'bullmq', 'latency', 'control', 'replay', 'memory', 'mcp'] as const;
export type Part = (typeof PARTS)[number];

function int(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not "${v}"`);
  return Math.floor(n);
}

export interface BenchOptions {
  /** tasks (and BullMQ jobs) of the throughput run */
  tasks: number;
  /** submits outstanding at once in the throughput run */
  inFlight: number;
  /** batch submits (1,000 tasks each) outstanding at once in the batch throughput run */
  batchInFlight: number;
  /** tasks/s of the latency run, and its duration */
  rate: number;
  latencySeconds: number;
  /** events written for the replay (5 per task) */
  replayEvents: number;
  /** tasks held queued for the memory figure */
  memoryTasks: number;
  /** long tasks cancelled, and tasks timed out */
  cancelTasks: number;
  timeoutTasks: number;
  /** plain MCP tool calls timed per transport, and calls that outlive their budget */
  mcpCalls: number;
  mcpBudgetCalls: number;
  redisUrl: string;
  /** the memory part runs the scheduler from its sources with tsx instead of its build (production runs the build) */
  memoryFromSources: boolean;
  /** run the services with --cpu-prof into this folder */
  cpuProfDir: string | undefined;
  skip: Set<string>;
}

export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const skip = new Set(
    (env.BENCH_SKIP ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const s of skip) {
    if (!(PARTS as readonly string[]).includes(s)) throw new Error(`BENCH_SKIP: unknown part "${s}" (parts: ${PARTS.join(', ')})`);
  }
  return {
    tasks: int('BENCH_TASKS', 20_000),
    inFlight: int('BENCH_IN_FLIGHT', 1_000),
    batchInFlight: int('BENCH_BATCH_IN_FLIGHT', 4),
    rate: int('BENCH_RATE', 200),
    latencySeconds: int('BENCH_LATENCY_SECONDS', 10),
    replayEvents: int('BENCH_REPLAY_EVENTS', 1_000_000),
    memoryTasks: int('BENCH_MEMORY_TASKS', 100_000),
    cancelTasks: int('BENCH_CANCEL_TASKS', 50),
    timeoutTasks: int('BENCH_TIMEOUT_TASKS', 50),
    mcpCalls: int('BENCH_MCP_CALLS', 300),
    mcpBudgetCalls: int('BENCH_MCP_BUDGET_CALLS', 10),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    memoryFromSources: Boolean(env.BENCH_FROM_SOURCES),
    cpuProfDir: env.BENCH_CPU_PROF || undefined,
    skip,
  };
}
