import type { ErrandEvent } from '@errand/contracts';
import type { AppendOptions, PubAck } from '@errand/nats';
import { context, extractTrace, inSpan, linksTo, TelemetryAttributes } from '@errand/telemetry';
import type { IntakeContext } from '../context.ts';

/**
 * Append an event about an existing task (`cancel-requested`, `retry-requested`)
 * in the task's own trace, the one its `submitted` event carries, so an SRE
 * sees the cancel beside the work it stopped; the span links to the request
 * that asked for it (which may belong to the caller's trace). A task whose
 * `submitted` carries no trace context gets the request's.
 */
export async function appendInTaskTrace(ctx: IntakeContext, e: ErrandEvent, opts: AppendOptions = {}): Promise<PubAck> {
  const request = context.active();
  const first = await ctx.events.first(e.tenant, e.taskId).catch(() => undefined);
  const traced = Boolean(first?.headers?.get('traceparent'));
  const parent = traced ? extractTrace(first!.headers) : request;
  return await inSpan(
    `errand.${e.type}`,
    parent,
    { [TelemetryAttributes.TaskId]: e.taskId, [TelemetryAttributes.Tenant]: e.tenant, [TelemetryAttributes.Event]: e.type },
    (_span, trace) => ctx.events.append(e, { ...opts, trace }),
    { links: traced ? linksTo(request) : [] },
  );
}
