import { isTerminalState, type SubmitBody, type TaskState, type TaskView } from '@errand/contracts';
import type { ErrandBackend, TaskTypeEntry } from './backend.ts';
import { backgroundMessage, estimateEtaMs } from './text.ts';

/** A task that ended within its budget. */
export interface RunDone {
  done: true;
  id: string;
  state: TaskState;
  result?: unknown;
  view: TaskView;
}

/** A task still going at its budget's end: it goes on in the background. */
export interface RunPending {
  done: false;
  id: string;
  state: TaskState;
  etaMs?: number;
  /** a sentence for the user: "Your report is running in the background: about 2 minutes; I will tell you when it is ready." */
  message: string;
  /** the last view seen */
  view: TaskView;
}

export type RunOutcome = RunDone | RunPending;

export interface BudgetOptions {
  budgetMs: number;
  /** every view seen while waiting (progress), the first included */
  onUpdate?: (view: TaskView) => void;
  /** the caller gave up (a cancelled MCP request): answer as at the budget's end */
  signal?: AbortSignal;
}

/**
 * Wait at most `budgetMs` for a submitted task: its end if it comes in time,
 * else, at the budget's end and not later, a background handle with an ETA
 * (from the task's progress or, before any, the type's observed durations).
 */
export async function awaitWithBudget(backend: ErrandBackend, id: string, opts: BudgetOptions): Promise<RunOutcome> {
  const ac = new AbortController();
  const abort = () => ac.abort();
  const timer = setTimeout(abort, Math.max(0, opts.budgetMs));
  opts.signal?.addEventListener('abort', abort, { once: true });
  const types = backend.taskTypes().catch(() => [] as TaskTypeEntry[]);
  let last: TaskView | undefined;
  const budgetOver = new Promise<'over'>((resolve) => ac.signal.addEventListener('abort', () => resolve('over'), { once: true }));
  const followed = (async () => {
    for await (const view of backend.follow(id, ac.signal)) {
      last = view;
      opts.onUpdate?.(view);
      if (isTerminalState(view.state)) return view;
    }
    return undefined;
  })();
  try {
    // the race keeps the answer at the budget's end even when a read is still on its way
    const ended = await Promise.race([followed, budgetOver]);
    if (ended !== 'over' && ended !== undefined) return doneOf(ended);
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', abort);
    ac.abort();
    followed.catch(() => undefined);
  }
  const view = last ?? (await backend.get(id));
  if (isTerminalState(view.state)) return doneOf(view);
  const type = (await types).find((t) => t.name === view.type);
  const etaMs = estimateEtaMs(view, type, Date.now());
  const rounded = etaMs === undefined ? undefined : Math.round(etaMs);
  return {
    done: false,
    id,
    state: view.state,
    ...(rounded !== undefined ? { etaMs: rounded } : {}),
    message: backgroundMessage(view, rounded),
    view,
  };
}

/** Submit a task and wait for it within a budget (`run` of the SDK, the MCP tools' plain call). */
export async function runWithBudget(backend: ErrandBackend, body: SubmitBody, opts: BudgetOptions): Promise<RunOutcome> {
  const started = Date.now();
  const handle = await backend.submit(body);
  return await awaitWithBudget(backend, handle.id, { ...opts, budgetMs: opts.budgetMs - (Date.now() - started) });
}

function doneOf(view: TaskView): RunDone {
  return { done: true, id: view.id, state: view.state, ...(view.result !== undefined ? { result: view.result } : {}), view };
}
