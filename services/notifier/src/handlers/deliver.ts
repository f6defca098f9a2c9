import { deliveryMsgId, makeEvent, type ErrandEvent } from '@errand/contracts';
import { annotate, inSpan, SpanKind, TelemetryAttributes, type Context } from '@errand/telemetry';
import { noteRecord, type PlannedDelivery, type Seen, type TaskMemo } from '../domain/memo.ts';
import type { Message } from '../domain/message.ts';
import { nextDelay } from '../domain/retry.ts';
import { safeHost } from '../targets/http.ts';
import { sendOnce } from '../targets/send.ts';
import type { HandlerDeps } from './deps.ts';

/** Thrown when the notifier stops (or loses its lease) in the middle of a delivery. */
export class Stopped extends Error {
  override name = 'Stopped';
}

/** Wait `ms`, in short steps so that `cut` can end the wait early (returns true then). */
async function pause(ms: number, signal: AbortSignal, cut: () => boolean): Promise<boolean> {
  for (let left = ms; left > 0; left -= 250) {
    if (cut()) return true;
    await sleep(Math.min(250, left), signal);
  }
  return cut();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Stopped('stopping'));
    const onAbort = () => {
      clearTimeout(t);
      reject(new Stopped('stopping'));
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Where a target points, safe for a log line. */
export function targetLabel(t: PlannedDelivery['target']): string {
  switch (t.kind) {
    case 'nats':
      return `nats ${t.subject}`;
    case 'webhook':
      return `webhook ${safeHost(t.url)}`;
    case 'slack':
    case 'discord':
      return `${t.kind} ${t.host ?? ''}`.trim();
    case 'memory':
      return 'memory';
    case 'email':
      return 'email';
  }
}

/**
 * Deliver one event to one target: try, back off and try again per the
 * schedule (the event stays unacked meanwhile; `working()` keeps it ours),
 * then record `delivered` or `delivery-failed`. A progress message that is
 * still failing when a later message of its task is waiting is given up
 * (`delivery-failed`, "superseded"): a dead target must not hold up the final
 * message to the task's other targets, and an old progress is worth nothing then.
 */
export async function deliverOne(
  deps: HandlerDeps,
  memo: TaskMemo,
  seen: Seen,
  plan: PlannedDelivery,
  message: Message,
  trace: Context,
  laterWaiting: () => boolean = () => false,
): Promise<void> {
  // a span in the delivered event's trace: the task's trace, next to the attempt that wrote the event
  const { event } = seen;
  const attrs = {
    [TelemetryAttributes.TaskId]: event.taskId,
    [TelemetryAttributes.Tenant]: event.tenant,
    [TelemetryAttributes.Event]: event.type,
    [TelemetryAttributes.DeliveryId]: plan.deliveryId,
    [TelemetryAttributes.TargetIndex]: plan.index,
    [TelemetryAttributes.TargetKind]: plan.target.kind,
    ...('attempt' in event && typeof event.attempt === 'number' ? { [TelemetryAttributes.Attempt]: event.attempt } : {}),
  };
  const kind = plan.target.kind === 'nats' ? SpanKind.PRODUCER : SpanKind.CLIENT;
  await inSpan(`errand.deliver ${plan.target.kind}`, trace, attrs, (_span, ctx) => deliverTries({ deps, memo, seen, plan, message, trace: ctx, laterWaiting }), kind);
}

async function deliverTries(a: {
  deps: HandlerDeps;
  memo: TaskMemo;
  seen: Seen;
  plan: PlannedDelivery;
  message: Message;
  trace: Context;
  laterWaiting: () => boolean;
}): Promise<void> {
  const { deps, memo, seen, plan, message, trace, laterWaiting } = a;
  const supersedable = seen.event.type === 'progress';
  const out = { deliveryId: plan.deliveryId, event: seen.event, view: message.view, text: message.text, ...(message.memory ? { memory: message.memory } : {}) };
  for (let tries = 1; ; tries++) {
    if (deps.signal().aborted) throw new Stopped('stopping');
    const v = await deps.limiter.run(() => sendOnce(plan.target, out, deps.send));
    if (v.kind === 'ok') return await record(deps, memo, seen.event, plan, 'delivered', tries, undefined, trace);
    if (v.kind === 'retry') {
      const delay = nextDelay(deps.settings.schedule, v, tries, deps.random());
      if (delay !== undefined) {
        deps.logger.info('delivery failed, will retry', { deliveryId: plan.deliveryId, target: targetLabel(plan.target), tries, delayMs: delay, error: v.error });
        const superseded = await pause(delay, deps.signal(), () => supersedable && laterWaiting());
        if (!superseded) continue;
        return await record(deps, memo, seen.event, plan, 'delivery-failed', tries, `superseded by a later message after: ${v.error}`, trace);
      }
    }
    deps.logger.warn('delivery gave up', { deliveryId: plan.deliveryId, target: targetLabel(plan.target), tries, error: v.error });
    return await record(deps, memo, seen.event, plan, 'delivery-failed', tries, v.error, trace);
  }
}

async function record(
  deps: HandlerDeps,
  memo: TaskMemo,
  of: ErrandEvent,
  plan: PlannedDelivery,
  type: 'delivered' | 'delivery-failed',
  tries: number,
  error: string | undefined,
  trace: Context,
): Promise<void> {
  const e = makeEvent(type, { taskId: of.taskId, tenant: of.tenant }, new Date(deps.now()), {
    target: { index: plan.index, kind: plan.target.kind, ...(plan.target.name ? { name: plan.target.name } : {}) },
    of: of.type,
    deliveryId: plan.deliveryId,
    tries,
    ...(error !== undefined ? { error: error.slice(0, 500) } : {}),
  });
  annotate({ [TelemetryAttributes.Tries]: tries }, { ctx: trace, ...(type === 'delivery-failed' ? { error: error ?? 'delivery failed' } : {}) });
  await deps.log.append(e, { msgID: deliveryMsgId(plan.deliveryId, type), trace });
  noteRecord(memo, e);
}
