import { makeEvent, type ErrandEvent, type EventOf, type TaskTypeInfo } from '@errand/contracts';
import type { SchedTask } from './task.ts';
import { taskKey, userKey, type SchedState } from './state.ts';
import { walkReady, type SlotLimits, type WalkInput } from './walk.ts';

export interface Limits extends SlotLimits {
  maxPendingPerUser: number;
  leaseMs: number;
  cancelGraceMs: number;
  /** how long after a task's deadline the scheduler writes `timed-out` when the worker has not */
  timeoutSlackMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  defaultMaxAttempts: number;
}

/** What the runtime must do: append an event (and for a dispatch, then publish its work message). */
export type Command =
  | { kind: 'append'; key: string; event: ErrandEvent; expectLastSeq: number }
  | { kind: 'dispatch'; key: string; event: EventOf<'dispatched'>; expectLastSeq: number; record: SchedTask; maxAttempts: number };

export interface DecideInput {
  state: SchedState;
  limits: Limits;
  /** task types as workers published them */
  types: ReadonlyMap<string, TaskTypeInfo>;
  /** the types with a live worker now (a task of another type waits, holding no slot) */
  live: ReadonlySet<string>;
  now: number;
  /** tasks with a command under way: decided already, wait for their event */
  inflight: ReadonlyMap<string, { cmd: Command }>;
  /** a number in [0, 1) for backoff jitter */
  random: () => number;
  /**
   * Also check every running task's deadline and lease (O(running)): the
   * runtime asks for it on its timer, not on every event.
   */
  supervise?: boolean;
}

/** Backoff before attempt `next` (2 for the first retry): base * 2^(next-2), capped, ±20 % jitter. */
export function retryDelay(next: number, limits: Pick<Limits, 'retryBaseMs' | 'retryMaxMs'>, random: () => number): number {
  const raw = Math.min(limits.retryMaxMs, limits.retryBaseMs * 2 ** Math.max(0, next - 2));
  return Math.max(0, Math.round(raw * (0.8 + 0.4 * random())));
}

const partialOf = (r: SchedTask) => (r.discardPartial ? {} : r.checkpointRef ? { partial: r.checkpointRef } : {});
const at = (now: number) => new Date(now).toISOString();
const ids = (r: SchedTask) => ({ taskId: r.id, tenant: r.tenant });

/**
 * How many admissions (and their cancels or rejections) may be written and not
 * folded yet. A burst of submits is admitted in windows of this size, in log
 * order: without it, 100,000 submits became 55,000 writes in flight at once,
 * each holding its event, its span and its promise. The window is also what
 * a write's objects (command, event, span, headers, promise chain, about
 * 2 KB) live through: at 1,000 they outlived the young generation's
 * collections and were promoted, and the old generation filled with them
 * (about 200 MiB of garbage while 100,000 were admitted). At 250 they die
 * young, and each window is still a single round trip of writes.
 */
export const ADMIT_IN_FLIGHT = 250;

/** Admission of undecided tasks, in log order. Counts pending as it goes. */
function admit(inp: DecideInput, out: Command[]): void {
  const { state, limits, types, now, inflight } = inp;
  // admissions written but not yet folded count as pending already
  const pending = new Map<string, number>();
  let admitting = 0;
  for (const { cmd } of inflight.values()) {
    if (state.undecided.has(cmd.key)) admitting++;
    if (cmd.event.type !== 'queued') continue;
    const r = state.tasks.get(cmd.key);
    if (r) pending.set(userKey(r.tenant, r.user), (pending.get(userKey(r.tenant, r.user)) ?? 0) + 1);
  }
  if (admitting >= ADMIT_IN_FLIGHT) return;
  // `undecided` is in log order (state.ts): the first ones not under way are the next window
  const order: SchedTask[] = [];
  for (const k of state.undecided) {
    if (order.length >= ADMIT_IN_FLIGHT - admitting) break;
    if (!inflight.has(k)) order.push(state.tasks.get(k)!);
  }
  for (const r of order) {
    const key = taskKey(r.tenant, r.id);
    const base = { key, expectLastSeq: r.lastSeq } as const;
    if (r.cancelRequestedAt) {
      out.push({ kind: 'append', ...base, event: makeEvent('cancelled', ids(r), at(now), {}) });
      continue;
    }
    if (!types.has(r.type)) {
      out.push({
        kind: 'append',
        ...base,
        event: makeEvent('rejected', ids(r), at(now), { code: 'unknown_type', message: `no worker has registered the task type ${r.type}` }),
      });
      continue;
    }
    const uk = userKey(r.tenant, r.user);
    const count = (state.pendingPerUser.get(uk) ?? 0) + (pending.get(uk) ?? 0);
    if (count >= limits.maxPendingPerUser) {
      out.push({
        kind: 'append',
        ...base,
        event: makeEvent('rejected', ids(r), at(now), {
          code: 'queue_full',
          message: `user ${r.user} already has ${count} pending tasks, the most allowed; try again when one of them has started`,
        }),
      });
      continue;
    }
    pending.set(uk, (pending.get(uk) ?? 0) + 1);
    const position = state.ready.positionFor(uk, r.priority);
    out.push({ kind: 'append', ...base, event: makeEvent('queued', ids(r), at(now), { position }) });
  }
}

/** Cancels that the scheduler carries out: tasks not running, and running ones past the grace period. */
function cancels(inp: DecideInput, out: Command[]): void {
  const { state, limits, now, inflight } = inp;
  for (const key of state.cancelling) {
    if (inflight.has(key)) continue;
    const r = state.tasks.get(key)!;
    if (r.state === 'submitted') continue; // admission handles it
    const requested = Date.parse(r.cancelRequestedAt!);
    const graceOver = now - requested >= limits.cancelGraceMs;
    if (r.state === 'running' && !graceOver) continue;
    const attempt = r.attempt > 0 ? { attempt: r.attempt } : {};
    out.push({
      kind: 'append',
      key,
      expectLastSeq: r.lastSeq,
      event: makeEvent('cancelled', ids(r), at(now), { ...attempt, ...partialOf(r) }),
    });
  }
}

/** A `failed` (worker lost) of the task's current attempt; it retries while attempts are left. */
function lost(inp: DecideInput, r: SchedTask, key: string, message: string): Command {
  const max = inp.types.get(r.type)?.defaults.maxAttempts ?? inp.limits.defaultMaxAttempts;
  return {
    kind: 'append',
    key,
    expectLastSeq: r.lastSeq,
    event: makeEvent('failed', ids(r), at(inp.now), { attempt: r.attempt, error: { code: 'worker_lost', message }, willRetry: r.attempt < max }),
  };
}

/**
 * Deadlines and leases of active attempts. A dispatched attempt that no
 * worker started, while its type has had no live worker for a whole lease,
 * is lost too: it gives its slot back and waits, as a retry, for a worker.
 */
function supervise(inp: DecideInput, out: Command[]): void {
  const { state, limits, now, inflight } = inp;
  for (const key of state.active) {
    if (inflight.has(key) || state.cancelling.has(key)) continue;
    const r = state.tasks.get(key)!;
    const seen = state.lastSeen.get(key) ?? now;
    const silentS = Math.round((now - seen) / 1000);
    if (r.state === 'dispatched') {
      if (!inp.live.has(r.type) && now - seen >= limits.leaseMs) {
        out.push(lost(inp, r, key, `no live worker of task type ${r.type} started it for ${silentS} s`));
      }
      continue;
    }
    if (r.state !== 'running') continue;
    const deadline = Date.parse(r.startedAt!) + r.timeoutMs + limits.timeoutSlackMs;
    if (now >= deadline) {
      const event = makeEvent('timed-out', ids(r), at(now), { attempt: r.attempt, timeoutMs: r.timeoutMs, ...partialOf(r) });
      out.push({ kind: 'append', key, expectLastSeq: r.lastSeq, event });
    } else if (now - seen >= limits.leaseMs) {
      out.push(lost(inp, r, key, `no sign of life from the worker for ${silentS} s`));
    }
  }
}

/** Retries: schedule the next attempt (once scheduled, it is in the ready queue, ready when its time comes). */
function retries(inp: DecideInput, out: Command[]): void {
  const { state, limits, now, inflight, random } = inp;
  for (const key of state.retrying) {
    if (inflight.has(key) || state.cancelling.has(key)) continue;
    const r = state.tasks.get(key)!;
    if (r.notBefore) continue;
    const next = Math.max(r.attempt + 1, r.fence);
    // a user's retry runs at once; a failure waits its backoff
    const delay = r.error ? retryDelay(next, limits, random) : 0;
    out.push({
      kind: 'append',
      key,
      expectLastSeq: r.lastSeq,
      event: makeEvent('retry-scheduled', ids(r), at(now), { attempt: next, notBefore: at(now + delay) }),
    });
  }
}

/** How far one decision walks the ready queue past entries held back by limits. */
const DECIDE_SCAN = 10_000;

/** The walk's view of a decision's input: the same for `decide` and `explain`. */
export function walkInput(inp: DecideInput, busy: ReadonlySet<string>): WalkInput {
  const dispatching = new Map<string, SchedTask>();
  for (const { cmd } of inp.inflight.values()) if (cmd.kind === 'dispatch') dispatching.set(cmd.key, cmd.record);
  return { state: inp.state, limits: inp.limits, now: inp.now, types: inp.types, live: inp.live, dispatching, busy };
}

/** Fill free slots from the ready queue, in its order, within the limits, with types that have a live worker. */
function dispatch(inp: DecideInput, busy: ReadonlySet<string>, out: Command[]): void {
  const w = { ...walkInput(inp, busy), onlyRunnable: true };
  let taken = inp.state.active.size;
  for (const key of w.dispatching.keys()) if (!inp.state.active.has(key)) taken++;
  let free = inp.limits.concurrency - taken;
  if (free <= 0) return;
  let examined = 0;
  walkReady(w, (s) => {
    if (s.verdict.kind === 'run') {
      const r = s.record;
      out.push({
        kind: 'dispatch',
        key: s.key,
        expectLastSeq: r.lastSeq,
        record: r,
        maxAttempts: s.verdict.info.defaults.maxAttempts,
        event: makeEvent('dispatched', ids(r), at(inp.now), { attempt: Math.max(r.attempt + 1, r.fence), pool: s.verdict.info.pool }),
      });
      free--;
    }
    return free > 0 && ++examined < DECIDE_SCAN;
  });
}

/**
 * Everything the scheduler should do now. Pure: it reads the state and
 * changes nothing (the same input gives the same commands); what it decides
 * changes the state only once its events come back through the log.
 */
export function decide(inp: DecideInput): Command[] {
  const out: Command[] = [];
  admit(inp, out);
  cancels(inp, out);
  if (inp.supervise !== false) supervise(inp, out);
  retries(inp, out);
  dispatch(inp, busyOf(inp, out), out);
  return out;
}

/** Tasks with a command under way or just decided: the walk leaves them alone. */
export function busyOf(inp: DecideInput, out: readonly Command[] = []): Set<string> {
  const busy = new Set(inp.inflight.keys());
  for (const c of out) busy.add(c.key);
  return busy;
}
