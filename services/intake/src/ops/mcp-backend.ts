import { isTerminalState, type TaskView } from '@errand/contracts';
import type { ErrandBackend } from '@errand/mcp';
import type { IntakeContext } from '../context.ts';
import { submit } from './submit.ts';
import { cancel, retry, status } from './tasks.ts';
import { list, taskTypes } from './queries.ts';

/** How long one wait for a task's next event lasts before it is checked again. */
const WAIT_SLICE_MS = 5_000;

/** Resolve when the signal aborts (never rejects). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Follow a task through the read model: a view now, then one each time an
 * event of the task is folded (waits registered in the read model, no
 * subscription per caller), until it ends or the signal aborts.
 */
async function* follow(ctx: IntakeContext, tenant: string, id: string, signal: AbortSignal): AsyncGenerator<TaskView> {
  const stop = aborted(signal);
  let seen = (await ctx.readModel.readYourWrites(tenant, id)).lastSeq;
  let view = await status(ctx, tenant, id);
  yield view;
  while (!isTerminalState(view.state) && !signal.aborted) {
    const after = seen;
    const next = ctx.readModel.waitForTask(tenant, id, (r) => !!r && r.lastSeq > after, WAIT_SLICE_MS);
    const r = await Promise.race([next, stop]);
    if (!r || r.lastSeq <= seen) continue;
    seen = r.lastSeq;
    view = await status(ctx, tenant, id);
    yield view;
  }
}

/** The MCP server's backend for one tenant, over the intake's own operations. */
export function intakeMcpBackend(ctx: IntakeContext, tenant: string): ErrandBackend {
  return {
    submit: (body) => submit(ctx, tenant, body),
    get: (id) => status(ctx, tenant, id),
    follow: (id, signal) => follow(ctx, tenant, id, signal),
    cancel: (id, opts) => cancel(ctx, tenant, id, opts),
    retry: (id) => retry(ctx, tenant, id),
    list: (query) => list(ctx, tenant, query),
    taskTypes: async () => (await taskTypes(ctx, tenant)).items,
    onTypesChange: (listener) => ctx.types.onChange(listener),
  };
}
