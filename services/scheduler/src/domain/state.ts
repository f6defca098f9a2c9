import { isTerminalState, taskKey, type ErrandEvent, type TaskRecord } from '@errand/contracts';
import { FairQueue } from './queue.ts';
import { applySchedEvent, Names, schedTaskFromSubmitted, schedTaskOf, type SchedTask } from './task.ts';

/** the one task key of every service (contracts) */
export { taskKey };
export const userKey = (tenant: string, user: string) => `${tenant}/${user}`;

/**
 * The scheduler's whole state: a fold of the event log. `evolve` updates it in
 * place (a replay of a million events cannot afford copies) and never throws.
 * Indices are derived from the tasks and kept in step with them.
 */
export interface SchedState {
  /** tasks that have not ended, in the scheduler's compact form (`task.ts`) */
  tasks: Map<string, SchedTask>;
  /** one copy of each tenant, user, type, pool and line name */
  names: Names;
  /** admitted tasks waiting for a slot, and scheduled retries (at the front of their line, from `retry-scheduled` on) */
  ready: FairQueue;
  /** `submitted`, not decided yet, in log order (a task keeps its place while it stays `submitted`) */
  undecided: Set<string>;
  /** dispatched or running: they hold a slot */
  active: Set<string>;
  /** retrying: waiting for `retry-scheduled` or its `notBefore` */
  retrying: Set<string>;
  /** a cancel is requested and the task is not terminal */
  cancelling: Set<string>;
  pendingPerUser: Map<string, number>;
  activePerTenant: Map<string, number>;
  activePerType: Map<string, number>;
  /** last stream sequence applied */
  seq: number;
  /** last sign of life of an active attempt (ms since epoch): beats and its events */
  lastSeen: Map<string, number>;
}

export function initialState(): SchedState {
  return {
    tasks: new Map(),
    names: new Names(),
    ready: new FairQueue(),
    undecided: new Set(),
    active: new Set(),
    retrying: new Set(),
    cancelling: new Set(),
    pendingPerUser: new Map(),
    activePerTenant: new Map(),
    activePerType: new Map(),
    seq: 0,
    lastSeen: new Map(),
  };
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v <= 0) m.delete(k);
  else m.set(k, v);
}

/** Remove a record from every index (before re-adding it by its new state `now`). */
function unindex(s: SchedState, key: string, r: Pick<SchedTask, 'state' | 'tenant' | 'user' | 'type'>, now: SchedTask['state']): void {
  // a task still undecided keeps its place: admission goes in log order without sorting
  if (now !== 'submitted') s.undecided.delete(key);
  s.ready.remove(key);
  if (r.state === 'queued') bump(s.pendingPerUser, userKey(r.tenant, r.user), -1);
  if (s.active.delete(key)) {
    bump(s.activePerTenant, r.tenant, -1);
    bump(s.activePerType, r.type, -1);
  }
  s.retrying.delete(key);
  s.cancelling.delete(key);
}

const lineOf = (s: SchedState, r: SchedTask) => s.names.of(userKey(r.tenant, r.user));

export function index(s: SchedState, key: string, r: SchedTask, nowMs: number): void {
  if (isTerminalState(r.state)) {
    // an ended task needs nothing more from the scheduler: later events of it
    // change nothing, and a retry request reads it back from the log
    s.lastSeen.delete(key);
    s.tasks.delete(key);
    return;
  }
  if (r.cancelRequestedAt) s.cancelling.add(key);
  switch (r.state) {
    case 'submitted':
      s.undecided.add(key);
      break;
    case 'queued':
      bump(s.pendingPerUser, userKey(r.tenant, r.user), 1);
      if (!r.cancelRequestedAt) s.ready.push(key, lineOf(s, r), r.type, r.priority);
      break;
    case 'dispatched':
    case 'running':
      s.active.add(key);
      bump(s.activePerTenant, r.tenant, 1);
      bump(s.activePerType, r.type, 1);
      if (!s.lastSeen.has(key)) s.lastSeen.set(key, nowMs);
      break;
    case 'retrying':
      s.retrying.add(key);
      // a scheduled retry already waited its turn: the front of its line, ready once its time comes
      if (r.notBefore && !r.cancelRequestedAt) s.ready.push(key, lineOf(s, r), r.type, r.priority, true);
      break;
  }
}

/**
 * Apply one event from the log. `nowMs` is when the scheduler saw it (leases
 * count from then). Returns the task's record, or undefined when the event
 * is for a task this state does not know (it is logged by the caller).
 * `key` is the task's key when the caller has it already: every index of
 * the task then shares that one string.
 */
export function evolve(s: SchedState, e: ErrandEvent, seq: number, nowMs: number, key = taskKey(e.tenant, e.taskId)): SchedTask | undefined {
  if (seq > s.seq) s.seq = seq;
  let r = s.tasks.get(key);
  if (!r) {
    if (e.type !== 'submitted') return undefined;
    r = schedTaskFromSubmitted(e, seq, s.names);
    s.tasks.set(key, r);
    index(s, key, r, nowMs);
    return r;
  }
  const was = { state: r.state, cancelRequestedAt: r.cancelRequestedAt, attempt: r.attempt, notBefore: r.notBefore, tenant: r.tenant, user: r.user, type: r.type };
  if (!applySchedEvent(r, e, seq, s.names)) return r;
  // the round-robin turn moves when a dispatch is applied: a fact of the fold
  if (e.type === 'dispatched' && r.state === 'dispatched') s.ready.take(key);
  if (was.state !== r.state || was.cancelRequestedAt !== r.cancelRequestedAt || was.attempt !== r.attempt || was.notBefore !== r.notBefore) {
    unindex(s, key, was, r.state);
    index(s, key, r, nowMs);
  }
  const after = r;
  // an event of the current attempt is a sign of life
  if ('attempt' in e && e.attempt === after.attempt && s.active.has(key)) s.lastSeen.set(key, nowMs);
  return after;
}

/**
 * Put back a task that was dropped when it ended, folded from its whole
 * history (a `retry-requested` reopened it). Ignored while it is still ended.
 */
export function restoreTask(s: SchedState, r: Pick<TaskRecord, keyof SchedTask>, nowMs: number): void {
  const key = taskKey(r.tenant, r.id);
  if (isTerminalState(r.state) || s.tasks.has(key)) return;
  const t = schedTaskOf(r, s.names);
  s.tasks.set(key, t);
  index(s, key, t, nowMs);
}

/** A heartbeat for an attempt: refreshes its lease when it is the current one. */
export function beat(s: SchedState, tenant: string, taskId: string, attempt: number, nowMs: number): void {
  const key = taskKey(tenant, taskId);
  const r = s.tasks.get(key);
  if (r && r.attempt === attempt && s.active.has(key)) s.lastSeen.set(key, nowMs);
}

