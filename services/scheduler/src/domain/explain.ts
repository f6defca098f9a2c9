import type { WaitingOn } from '@errand/contracts';
import { busyOf, walkInput, type DecideInput } from './decide.ts';
import { walkReady, type Step } from './walk.ts';

const tasks = (n: number) => `${n} task${n === 1 ? '' : 's'} ahead`;
const busy = (n: number, of = '') => (n === 1 ? `the 1 slot${of} is busy` : `all ${n} slots${of} are busy`);

/** The readable sentence and fields of one step of the walk that does not run now. */
function fromStep(s: Step): WaitingOn | undefined {
  const v = s.verdict;
  const r = s.record;
  const ahead = { ahead: s.ahead };
  switch (v.kind) {
    case 'run':
    case 'held':
      return undefined; // being dispatched now: not waiting any more
    case 'retry_backoff':
      return { reason: 'retry_backoff', until: v.until, message: `attempt ${Math.max(r.attempt + 1, r.fence)} waits for its backoff until ${v.until}` };
    case 'no_worker':
      return { reason: 'no_worker', message: `no live worker serves the task type ${r.type}; it runs when one appears` };
    case 'type_limit':
      return { reason: 'type_limit', ...ahead, message: `${tasks(s.ahead)}; ${busy(v.limit, ` of task type ${r.type}`)}` };
    case 'tenant_limit':
      return { reason: 'tenant_limit', ...ahead, message: `${tasks(s.ahead)}; ${busy(v.limit, ` of tenant ${r.tenant}`)}` };
    case 'concurrency':
      return { reason: 'concurrency', ...ahead, message: `${tasks(s.ahead)}; ${busy(v.limit)}` };
    case 'priority':
      return { reason: 'priority', ...ahead, message: `${tasks(s.ahead)} of a higher priority or an earlier turn go first` };
    default: {
      const never: never = v;
      return never;
    }
  }
}

/**
 * Why each of these tasks (`tenant/id` keys) waits, from the same input and
 * the same walk of the ready queue that `decide` dispatches from. A task
 * that is not waiting (running, ended, unknown, being dispatched) is absent.
 */
export function explain(inp: DecideInput, keys: Iterable<string>): Map<string, WaitingOn> {
  const { state } = inp;
  const out = new Map<string, WaitingOn>();
  const wanted = new Set<string>();
  for (const key of keys) {
    const r = state.tasks.get(key);
    if (!r) continue;
    if (state.undecided.has(key) || (state.cancelling.has(key) && r.state !== 'running' && r.state !== 'dispatched')) {
      out.set(key, { reason: 'undecided', message: r.cancelRequestedAt ? 'a cancel is requested; the scheduler is ending the task' : 'the scheduler has not decided it yet' });
    } else if (state.retrying.has(key) && !r.notBefore) {
      out.set(key, { reason: 'retry_backoff', message: `the scheduler is scheduling attempt ${Math.max(r.attempt + 1, r.fence)}` });
    } else if (state.ready.has(key)) {
      wanted.add(key);
    }
  }
  if (wanted.size === 0) return out;
  let left = wanted.size;
  walkReady(walkInput(inp, busyOf(inp)), (s) => {
    if (!wanted.has(s.key)) return true;
    const w = fromStep(s);
    if (w) out.set(s.key, w);
    return --left > 0;
  });
  return out;
}

