import type { TaskTypeInfo } from '@errand/contracts';
import type { SchedTask } from './task.ts';
import type { SchedState } from './state.ts';

/** The limits the ready queue is walked under. */
export interface SlotLimits {
  concurrency: number;
  tenantConcurrency?: number;
  typeConcurrency: ReadonlyMap<string, number>;
}

/** The facts about task types the walk needs: published info, and which types have a live worker. */
export interface TypeFacts {
  types: ReadonlyMap<string, TaskTypeInfo>;
  live: ReadonlySet<string>;
}

/** Why an entry of the ready queue does not run now; `run` when it is dispatched now. */
export type Verdict =
  | { kind: 'run'; info: TaskTypeInfo }
  | { kind: 'held' }
  | { kind: 'retry_backoff'; until: string }
  | { kind: 'no_worker' }
  | { kind: 'type_limit'; limit: number }
  | { kind: 'tenant_limit'; limit: number }
  | { kind: 'concurrency'; limit: number }
  | { kind: 'priority' };

export interface WalkInput extends TypeFacts {
  state: SchedState;
  limits: SlotLimits;
  now: number;
  /** tasks whose dispatch is written but not folded yet: they hold their slot and their turn */
  dispatching: ReadonlyMap<string, SchedTask>;
  /** tasks with another command under way: not looked at */
  busy: ReadonlySet<string>;
  /** pass over the types without a live worker unseen (`decide`: their entries could only say `no_worker`) */
  onlyRunnable?: boolean;
}

/** One step of the walk: the entry, what happens to it, and how many entries that may run go first. */
export interface Step {
  key: string;
  record: SchedTask;
  verdict: Verdict;
  ahead: number;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/**
 * Walk the ready queue in dispatch order and say, for each entry, the first
 * reason that holds (in DESIGN.md's order) or that it runs now, counting the
 * slots the earlier entries take. `decide` dispatches the `run` steps and
 * `explain` reports the others: one code path, so what the scheduler says is
 * what it does. `visit` returns false to stop early.
 */
export function walkReady(inp: WalkInput, visit: (s: Step) => boolean): void {
  const { state, limits } = inp;
  const perTenant = new Map(state.activePerTenant);
  const perType = new Map(state.activePerType);
  let active = state.active.size;
  for (const [key, r] of inp.dispatching) {
    if (state.active.has(key)) continue;
    active++;
    bump(perTenant, r.tenant);
    bump(perType, r.type);
  }
  // the global limit was reached before this walk took any slot (`concurrency`), or by it (`priority`)
  const fullBefore = active >= limits.concurrency;
  let ahead = 0;
  // types that cannot run are passed over in bulk when the caller wants only what runs
  const skip = inp.onlyRunnable ? (type: string) => !inp.live.has(type) || !inp.types.has(type) : undefined;
  for (const c of state.ready.walk(skip)) {
    const r = state.tasks.get(c.key);
    if (!r) continue;
    if (inp.dispatching.has(c.key)) {
      ahead++; // it takes its turn and its slot (counted above)
      if (!visit({ key: c.key, record: r, verdict: { kind: 'held' }, ahead: ahead - 1 })) return;
      continue;
    }
    if (inp.busy.has(c.key)) continue;
    const verdict = judge(inp, r, active, perTenant, perType, fullBefore);
    if (!visit({ key: c.key, record: r, verdict, ahead })) return;
    if (verdict.kind === 'run') {
      active++;
      bump(perTenant, r.tenant);
      bump(perType, r.type);
    }
    if (verdict.kind !== 'no_worker' && verdict.kind !== 'retry_backoff') ahead++;
  }
}

function judge(
  inp: WalkInput,
  r: SchedTask,
  active: number,
  perTenant: ReadonlyMap<string, number>,
  perType: ReadonlyMap<string, number>,
  fullBefore: boolean,
): Verdict {
  const { limits } = inp;
  if (r.state === 'retrying' && r.notBefore && Date.parse(r.notBefore) > inp.now) return { kind: 'retry_backoff', until: r.notBefore };
  const info = inp.types.get(r.type);
  if (!info || !inp.live.has(r.type)) return { kind: 'no_worker' };
  const typeLimit = limits.typeConcurrency.get(r.type);
  if (typeLimit !== undefined && (perType.get(r.type) ?? 0) >= typeLimit) return { kind: 'type_limit', limit: typeLimit };
  const tenantLimit = limits.tenantConcurrency;
  if (tenantLimit !== undefined && (perTenant.get(r.tenant) ?? 0) >= tenantLimit) return { kind: 'tenant_limit', limit: tenantLimit };
  if (active >= limits.concurrency) return fullBefore ? { kind: 'concurrency', limit: limits.concurrency } : { kind: 'priority' };
  return { kind: 'run', info };
}
