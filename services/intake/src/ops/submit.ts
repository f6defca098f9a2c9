import {
  ErrandError,
  decodeEvent,
  evolveTask,
  invalid,
  makeEvent,
  newTaskId,
  subjects,
  submitBodySchema,
  type Submitted,
  type TaskRecord,
} from '@errand/contracts';
import { annotate } from '@errand/telemetry';
import { canonicalJson, resolveSettings } from '../domain/submit-plan.ts';
import type { IntakeContext } from '../context.ts';
import { checkTargets, storeTargets } from './targets.ts';
import { claimKey, sha256hex } from './idempotency.ts';

export interface SubmitAnswer {
  id: string;
  state: TaskRecord['state'];
  position?: number;
}

/** The answer for a task's current record; a rejected task is its rejection error. */
export function answerOf(r: TaskRecord): SubmitAnswer {
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
  const type = await ctx.types.get(body.type);
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
  annotate({ 'errand.task_id': taskId, 'errand.task_type': type.name, 'errand.user': settings.user });
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
 * scheduler's decision on the task's subject. The subscription is made
 * before the append, so the decision cannot slip past, and always removed.
 */
async function appendAndAwaitDecision(ctx: IntakeContext, event: Submitted): Promise<TaskRecord> {
  let record: TaskRecord | undefined;
  let counter = 0;
  let decide: (r: TaskRecord) => void = () => undefined;
  const decided = new Promise<TaskRecord>((resolve) => (decide = resolve));
  const sub = ctx.nc.subscribe(subjects.event(event.tenant, event.taskId), {
    callback: (err, msg) => {
      if (err) return;
      const d = decodeEvent(msg.data);
      if (!d.ok) return;
      record = evolveTask(record, d.value, ++counter);
      if (record && record.state !== 'submitted') decide(record);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const ack = await ctx.events.append(event);
    if (ack.duplicate) {
      // another request wrote this task first (same idempotency key): its decision may be in already
      const current = await ctx.readModel.readYourWrites(event.tenant, event.taskId);
      if (current.state !== 'submitted') return current;
    }
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ctx.config.ERRAND_DECISION_WAIT_MS);
    });
    const outcome = await Promise.race([decided, timeout]);
    return outcome ?? { ...(record ?? evolveTask(undefined, event, ack.seq)!), state: 'submitted' };
  } finally {
    if (timer) clearTimeout(timer);
    sub.unsubscribe();
  }
}
