/**
 * The scheduler's pure decision with a deep queue: how long one `decide`
 * takes (free slots, all slots busy, a dead type's backlog in front) and one
 * `explain` of the last task. Prints figures; asserts nothing.
 * Run: node --import tsx bench/decide.ts [queued=100000] [users=1000]
 */
import { makeEvent, type TaskTypeInfo } from '@errand/contracts';
import { decide, evolve, explain, initialState, type Command, type Limits } from '@errand/scheduler';

const N = Number(process.argv[2] ?? 100_000);
const USERS = Number(process.argv[3] ?? 1_000);
const T0 = Date.now();
const info = (name: string): TaskTypeInfo => ({ name, paramsSchema: {}, pool: 'default', defaults: { timeoutMs: 60_000, priority: 5, maxAttempts: 3 }, updatedAt: '' });
const types = new Map(['demo.sleep', 'mine.dead'].map((n) => [n, info(n)]));
const limits: Limits = { concurrency: 3, maxPendingPerUser: 1e9, typeConcurrency: new Map(), leaseMs: 20_000, cancelGraceMs: 10_000, timeoutSlackMs: 2_000, retryBaseMs: 1_000, retryMaxMs: 30_000, defaultMaxAttempts: 3 };

function build(deadFirst: number) {
  const s = initialState();
  let seq = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const t = { taskId: `t${i}`, tenant: `ten${i % 7}` };
    const taskType = i < deadFirst ? 'mine.dead' : 'demo.sleep';
    evolve(s, makeEvent('submitted', t, new Date(T0), { user: `u${i % USERS}`, taskType, params: {}, priority: 5, timeoutMs: 60_000, progressEveryMs: 10_000, deliver: [] }), ++seq, T0);
    evolve(s, makeEvent('queued', t, new Date(T0), { position: 0 }), ++seq, T0);
  }
  return { s, foldMs: performance.now() - t0 };
}

function time(label: string, fn: () => unknown, runs = 20): void {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) fn();
  console.log(`${label}: ${((performance.now() - t0) / runs).toFixed(3)} ms`);
}

const inflight = new Map<string, { cmd: Command }>();
const live = new Set(['demo.sleep']);
const { s, foldMs } = build(0);
console.log(`fold of ${N} queued tasks (${USERS} users, 7 tenants): ${foldMs.toFixed(0)} ms (${Math.round((2 * N) / (foldMs / 1000))} events/s)`);
time('decide, 3 free slots', () => decide({ state: s, limits, types, live, now: T0, inflight, random: Math.random }));
time('decide, no free slot', () => decide({ state: s, limits: { ...limits, concurrency: 0 }, types, live, now: T0, inflight, random: Math.random }));
time('explain, the last task of the queue', () => explain({ state: s, limits, types, live, now: T0, inflight, random: Math.random }, [`ten${(N - 1) % 7}/t${N - 1}`]), 5);
const dead = build(Math.min(N, 20_000)).s;
time('decide, 3 free slots behind 20000 tasks of a type with no worker', () => decide({ state: dead, limits, types, live, now: T0, inflight, random: Math.random }), 5);
