import {
  ErrandError,
  evolveTask,
  invalid,
  makeEvent,
  newTaskId,
  submitBodySchema,
  type Submitted,
  type TaskRecord,
} from '@errand/contracts';
import { annotate, TelemetryAttributes } from '@errand/telemetry';
import { isWrongLastSequence } from '@errand/nats';
import { canonicalJson, resolveSettings } from '../domain/submit-plan.ts';
import type { IntakeContext } from '../context.ts';
import { checkTargets, storeTargets } from './targets.ts';
import type { Decision } from '../adapters/read-model.ts';
import { claimKey, sha256hex } from './idempotency.ts';

export interface SubmitAnswer {
  id: string;
  state: TaskRecord['state'];
  position?: number;
}

/** The answer for a task's decision (or current record); a rejected task is its rejection error. */
export function answerOf(r: Decision): SubmitAnswer {
  if (r.state === 'rejected') {
    const code = (r.error?.code ?? 'invalid') as 'queue_full' | 'unknown_type' | 'invalid';
    throw new ErrandError(code, r.error?.message ?? 'the task was rejected', { details: { id: r.id } });
  }
  return { id: r.id, state: r.state, ...(r.state === 'queued' && r.position !== undefined ? { position: r.position } : {}) };
}

/** Submit a task: the one implementation behind `POST /v1/tasks` and `errand.api.<tenant>.submit`. */
export async function submit(ctx: IntakeContext, tenant: string, raw: unknown): Promise<SubmitAnswer> {
  const parsed = submitBodySchema.safeParse(raw);
  if (!parsed.success) throw invalid('the submit body does not fit its schema', parsed.error);
  const body = parsed.data;
  const type = await ctx.types.lookup(body.type);
  if (!type) throw new ErrandError('unknown_type', `no worker has registered the task type "${body.type}"`);
  const settings = resolveSettings(body, type, ctx.config.ERRAND_MAX_TIMEOUT_MS);
  ctx.params.check(type, settings.params);
  checkTargets(ctx, tenant, body.deliver ?? []);

  let taskId = newTaskId();
  if (body.idempotencyKey !== undefined) {
    const claim = await claimKey(ctx, tenant, body.idempotencyKey, sha256hex(canonicalJson(body)), taskId);
    if (claim.kind === 'existing') return answerOf(claim.record);
    taskId = claim.taskId;
  }
  // the request's span (its `submitted` event carries the span's context: the task's trace)
  annotate({ [TelemetryAttributes.TaskId]: taskId, [TelemetryAttributes.TaskType]: type.name, [TelemetryAttributes.User]: settings.user });
  const deliver = await storeTargets(ctx, tenant, taskId, body.deliver ?? []);
  const event = makeEvent('submitted', { taskId, tenant }, new Date(), {
    user: settings.user,
    taskType: type.name,
    params: settings.params,
    priority: settings.priority,
    timeoutMs: settings.timeoutMs,
    progressEveryMs: settings.progressEveryMs,
    deliver,
    ...(body.idempotencyKey !== undefined ? { idempotencyKey: body.idempotencyKey } : {}),
    ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
  });
  return answerOf(await appendAndAwaitDecision(ctx, event));
}

/**
 * Append `submitted` and wait (up to ERRAND_DECISION_WAIT_MS) for the
 * scheduler's decision: its note, or the history store's record, whichever
 * comes first. The wait is registered before the append, so the decision
 * cannot slip past; no subscription per request (subscription churn costs
 * the server on every publish), no store read before the decision.
 */
async function appendAndAwaitDecision(ctx: IntakeContext, event: Submitted): Promise<Decision> {
  const decided = ctx.readModel.waitForDecision(event.tenant, event.taskId, ctx.config.ERRAND_DECISION_WAIT_MS);
  // expected last sequence 0: a task is submitted once, even beyond the
  // 2-minute de-duplication window (the scheduler forgets ended tasks)
  const ack = await ctx.events.append(event, { expectLastSeq: 0 }).catch(async (err: unknown) => {
    if (!isWrongLastSequence(err)) throw err;
    return undefined; // written before by a request with the same idempotency key
  });
  if (!ack) return await ctx.readModel.readYourWrites(event.tenant, event.taskId);
  const outcome = await decided;
  if (outcome && outcome.state !== 'submitted') return outcome;
  return outcome ?? { ...evolveTask(undefined, event, ack.seq)!, state: 'submitted' };
}
