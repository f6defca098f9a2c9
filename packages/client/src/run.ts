import type { SubmitBody, TaskView } from '@errand/contracts';
import { isTerminalState } from '@errand/contracts';
import { runWithBudget, type RunOutcome } from '@errand/mcp';
import { ErrandClientError } from './errors.ts';
import type { ErrandClient } from './http.ts';
import { clientMcpBackend } from './mcp-backend.ts';

/** `run`'s options: the budget, and any submit field but the type and params. */
export type RunOptions = Omit<SubmitBody, 'type' | 'params'> & {
  /** how long to wait for the task before answering that it goes on in the background */
  budgetMs: number;
  /** every view seen while waiting (progress) */
  onUpdate?: (view: TaskView) => void;
  signal?: AbortSignal;
};

/** Submit a task and wait at most `budgetMs` (see `ErrandClient.run`). */
export async function runTask(client: ErrandClient, type: string, params: unknown, opts: RunOptions): Promise<RunOutcome> {
  const { budgetMs, onUpdate, signal, ...fields } = opts;
  return await runWithBudget(clientMcpBackend(client), { ...fields, type, ...(params !== undefined ? { params } : {}) }, {
    budgetMs,
    ...(onUpdate ? { onUpdate } : {}),
    ...(signal ? { signal } : {}),
  });
}

/** Wait for a task's end (see `ErrandClient.wait`). */
export async function waitTask(client: ErrandClient, id: string, timeoutMs: number | undefined): Promise<TaskView> {
  const ac = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ac.abort(), timeoutMs);
  try {
    let last: TaskView | undefined;
    for await (const view of clientMcpBackend(client).follow(id, ac.signal)) last = view;
    if (last && isTerminalState(last.state)) return last;
    throw new ErrandClientError('timeout', `task ${id} did not end within ${timeoutMs} ms${last ? ` (it is ${last.state})` : ''}`);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
