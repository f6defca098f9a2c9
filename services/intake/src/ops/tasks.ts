import { nuid } from '@nats-io/transport-node';
import {
  ErrandError,
  isTerminalState,
  makeEvent,
  type ErrandEvent,
  type TaskRecord,
  type TaskView,
} from '@errand/contracts';
import { isWrongLastSequence } from '@errand/nats';
import type { IntakeContext } from '../context.ts';
import { loadBlob } from './blobs.ts';
import { boundedView } from './results.ts';
import { appendInTaskTrace } from './trace.ts';
import { withWaitingOn } from './waiting.ts';

const PARTIAL_STATES = new Set(['cancelled', 'timed-out', 'failed']);

/** Result and partial result contents of a record (loaded from blobs when they are refs). */
async function contents(ctx: IntakeContext, r: TaskRecord): Promise<{ result?: unknown; partialResult?: unknown }> {
  const out: { result?: unknown; partialResult?: unknown } = {};
  if (r.state === 'completed') {
    const result = r.resultRef ? await loadBlob(ctx, r.resultRef) : r.result;
    if (result !== undefined) out.result = result;
  }
  if (PARTIAL_STATES.has(r.state) && r.partialRef && !r.discardPartial) {
    const partial = await loadBlob(ctx, r.partialRef);
    if (partial !== undefined) out.partialResult = partial;
  }
  return out;
}

/** The task view; a large result is linked, not carried (see `boundedView`). */
export async function status(ctx: IntakeContext, tenant: string, id: string): Promise<TaskView> {
  const r = await ctx.readModel.readYourWrites(tenant, id);
  const [view] = await withWaitingOn(ctx, [await boundedView(ctx, r, ctx.config.ERRAND_VIEW_RESULT_MAX)]);
  return view!;
}

export async function result(ctx: IntakeContext, tenant: string, id: string) {
  const r = await ctx.readModel.readYourWrites(tenant, id);
  const c = await contents(ctx, r);
  if (c.result !== undefined) return { id, state: r.state, partial: false, result: c.result };
  if (c.partialResult !== undefined) return { id, state: r.state, partial: true, result: c.partialResult };
  throw new ErrandError('not_found', `task ${id} has no result${isTerminalState(r.state) ? '' : ' yet'}`, {
    details: { id, state: r.state },
  });
}

export async function cancel(
  ctx: IntakeContext,
  tenant: string,
  id: string,
  body: { reason?: string; discardPartial?: boolean },
): Promise<{ id: string; state: TaskRecord['state'] }> {
  const r = await ctx.readModel.readYourWrites(tenant, id);
  if (isTerminalState(r.state)) throw new ErrandError('conflict', `task ${id} is already ${r.state}`, { details: { id, state: r.state } });
  if (r.cancelRequestedAt) return { id, state: r.state };
  const e = makeEvent('cancel-requested', { taskId: id, tenant }, new Date(), {
    by: 'api',
    ...(body.reason !== undefined ? { reason: body.reason } : {}),
    ...(body.discardPartial !== undefined ? { discardPartial: body.discardPartial } : {}),
  });
  const ack = await appendInTaskTrace(ctx, e, { idExtra: nuid.next() });
  // a task that is not running ends at once: report that when it comes quickly
  const now = await ctx.readModel.waitForTask(tenant, id, (t) => t !== undefined && t.lastSeq >= ack.seq && isTerminalState(t.state), 1_000);
  return { id, state: now?.state ?? r.state };
}

const RETRYABLE = new Set(['failed', 'timed-out', 'cancelled']);

export async function retry(ctx: IntakeContext, tenant: string, id: string): Promise<{ id: string; state: 'retrying' }> {
  for (let round = 0; round < 3; round++) {
    const r = await ctx.readModel.readYourWrites(tenant, id);
    if (!RETRYABLE.has(r.state)) {
      throw new ErrandError('conflict', `task ${id} is ${r.state}: only failed, timed-out or cancelled tasks can be retried`, {
        details: { id, state: r.state },
      });
    }
    const e = makeEvent('retry-requested', { taskId: id, tenant }, new Date(), { by: 'api' });
    try {
      await appendInTaskTrace(ctx, e, { expectLastSeq: r.lastSeq, idExtra: nuid.next() });
      return { id, state: 'retrying' };
    } catch (err) {
      // another event came in between: look again
      if (!isWrongLastSequence(err)) throw err;
    }
  }
  throw new ErrandError('conflict', `task ${id} keeps changing; try again`, { retryable: true });
}

export async function history(ctx: IntakeContext, tenant: string, id: string): Promise<ErrandEvent[]> {
  await ctx.readModel.readYourWrites(tenant, id);
  return (await ctx.events.history(tenant, id)).map((s) => s.event);
}
