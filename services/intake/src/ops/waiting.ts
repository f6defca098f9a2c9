import { decodeJson, encodeJson, subjects, waitingReplySchema, type TaskView, type WaitingOn, type WaitingRequest } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';

const NOT_DECIDED: WaitingOn = { reason: 'undecided', message: 'no scheduler has decided it yet' };
const NO_ANSWER: WaitingOn = { reason: 'undecided', message: 'the scheduler has not answered; it may be starting or electing a leader' };
/** the most tasks one request may name (`waitingRequestSchema`) */
const MAX_ASKED = 1_000;

/**
 * Fill `waitingOn` in views of waiting tasks: `submitted` is `undecided`
 * without asking; for `queued` and `retrying` one request on
 * `subjects.waiting` asks the scheduler leader, which answers from the same
 * walk its decisions come from. A task the leader no longer holds as waiting
 * (dispatched a moment ago) gets none; no answer in time says `undecided`.
 */
export async function withWaitingOn<V extends TaskView>(ctx: IntakeContext, views: V[]): Promise<V[]> {
  const asked: V[] = [];
  for (const v of views) {
    if (v.state === 'submitted') v.waitingOn = NOT_DECIDED;
    else if ((v.state === 'queued' || v.state === 'retrying') && asked.length < MAX_ASKED) asked.push(v);
  }
  if (asked.length === 0) return views;
  const items = await ask(ctx, { tasks: asked.map((v) => ({ tenant: v.tenant, id: v.id })) });
  for (const v of asked) {
    const w = items ? items[v.id] : NO_ANSWER;
    if (w) v.waitingOn = w;
  }
  return views;
}

async function ask(ctx: IntakeContext, req: WaitingRequest): Promise<Record<string, WaitingOn> | undefined> {
  try {
    const msg = await ctx.nc.request(subjects.waiting, encodeJson(req), { timeout: ctx.config.ERRAND_WAITING_TIMEOUT_MS });
    const reply = waitingReplySchema.safeParse(decodeJson(msg.data));
    if (reply.success) return reply.data.items;
    ctx.log.warn('the scheduler answered a waiting request with an invalid body', { error: reply.error.message });
  } catch (err) {
    // no responders or a timeout: no leader right now
    ctx.log.debug('no answer to a waiting request', { error: (err as Error).message });
  }
  return undefined;
}
