import type { JsMsg } from '@nats-io/jetstream';
import { decodeJson, workMessageSchema, type WorkMessage } from '@errand/contracts';
import { annotate, contextFromTraceparent, inSpan, SpanKind, TelemetryAttributes, type Context } from '@errand/telemetry';
import { RunningAttempt } from '../adapters/attempt.ts';
import { TaskError } from '../errors.ts';
import { classifyFailure, willRetry } from '../domain/failure.ts';
import type { TaskContext } from '../registry.ts';
import type { WorkerDeps } from '../deps.ts';
import { appendStarted } from '../adapters/started.ts';
import { watchTask, type Control } from './control.ts';

/** Deliveries of a work message of a type this worker does not know before it fails the task. */
const UNKNOWN_TYPE_DELIVERIES = 3;
const UNKNOWN_TYPE_RETRY_MS = 2_000;

/** What the app keeps of each running attempt. */
export interface Running {
  attempt: RunningAttempt;
  control: Control;
}

/**
 * Handle one work message: start the attempt (or drop it), run its handler
 * under a span that continues the scheduler's trace, and write the outcome.
 * Resolves when the slot may be reused; never throws.
 */
export async function handleWork(m: JsMsg, deps: WorkerDeps, running: Map<string, Running>): Promise<void> {
  let w: WorkMessage;
  try {
    w = workMessageSchema.parse(decodeJson(m.data));
  } catch (err) {
    deps.log.error('invalid work message; dropping it', { seq: m.seq, err: (err as Error).message.slice(0, 500) });
    m.term();
    return;
  }
  if (!deps.registry.has(w.taskType) && m.info.deliveryCount < UNKNOWN_TYPE_DELIVERIES) {
    deps.log.warn('work of a type this worker does not know; leaving it to another worker', { taskType: w.taskType, taskId: w.taskId });
    m.nak(UNKNOWN_TYPE_RETRY_MS);
    return;
  }
  const parent = contextFromTraceparent(w.traceparent, w.tracestate);
  const attrs = {
    [TelemetryAttributes.TaskId]: w.taskId,
    [TelemetryAttributes.Tenant]: w.tenant,
    [TelemetryAttributes.TaskType]: w.taskType,
    [TelemetryAttributes.Attempt]: w.attempt,
  };
  try {
    // the attempt's events (started, progress, checkpoint, the terminal one) are written in this span
    await inSpan(`errand.run ${w.taskType}`, parent, attrs, (_span, ctx) => startAndRun(m, w, ctx, deps, running), SpanKind.CONSUMER);
  } catch (err) {
    deps.log.error('work message handling failed', { taskId: w.taskId, err });
  }
}

async function loadResume(w: WorkMessage, deps: WorkerDeps): Promise<{ ref?: string; value?: unknown }> {
  if (!w.resume) return {};
  try {
    const got = await deps.blobs.getJson(w.resume);
    if (got) return { ref: w.resume, value: got.value };
    deps.log.warn('checkpoint not found; starting afresh', { taskId: w.taskId, ref: w.resume });
  } catch (err) {
    deps.log.warn('could not read the checkpoint; starting afresh', { taskId: w.taskId, ref: w.resume, err });
  }
  return {};
}

async function startAndRun(m: JsMsg, w: WorkMessage, trace: Context, deps: WorkerDeps, running: Map<string, Running>) {
  const resume = await loadResume(w, deps);
  const a = new RunningAttempt(deps, w, trace, resume.ref);
  // control starts watching from `started` on (arm), and catches up on anything it missed
  const control = watchTask(a, deps);
  let started;
  try {
    started = await appendStarted(w, deps, trace, resume.ref);
  } catch (err) {
    control.close();
    a.log.warn('could not write started; the work message comes back', { err });
    m.nak(1_000);
    return;
  }
  if (started.kind === 'drop') {
    control.close();
    a.log.info('not starting', { why: started.why });
    m.ack();
    return;
  }
  // a plain ack: were it lost, the message would come back after ack_wait and
  // its `started` check would fail (this attempt has started), so it is dropped
  m.ack();
  a.markStarted(Date.now(), started.seq);
  control.arm();
  running.set(a.taskKey, { attempt: a, control });
  const deadline = setTimeout(() => a.endAborted('timeout'), w.timeoutMs);
  try {
    await runHandler(a, w, resume.value, deps);
  } finally {
    clearTimeout(deadline);
    control.close();
    a.stopTimers();
    if (running.get(a.taskKey)?.attempt === a) running.delete(a.taskKey);
  }
}

/** Run the handler; after an abort, give it `abortGraceMs` to settle before the slot is given back. */
async function runHandler(a: RunningAttempt, w: WorkMessage, resume: unknown, deps: WorkerDeps): Promise<void> {
  const run = invoke(a, w, resume, deps).then(
    (result) => a.complete(result),
    (err: unknown) => onError(a, w, err),
  );
  let graceTimer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<void>((resolve) => {
    const onAbort = () => {
      graceTimer = setTimeout(resolve, deps.abortGraceMs);
    };
    if (a.signal.aborted) onAbort();
    else a.signal.addEventListener('abort', onAbort, { once: true });
  });
  await Promise.race([run.then(() => a.drained()), abandoned]);
  if (graceTimer) clearTimeout(graceTimer);
}

async function invoke(a: RunningAttempt, w: WorkMessage, resume: unknown, deps: WorkerDeps): Promise<unknown> {
  const type = deps.registry.get(w.taskType);
  if (!type) throw new TaskError('unknown_type', `no handler for task type ${w.taskType} on this pool`, { retryable: false });
  const parsed = type.params.safeParse(w.params ?? {});
  if (!parsed.success) throw new TaskError('invalid_params', parsed.error.message.slice(0, 4000), { retryable: false });
  const ctx: TaskContext = {
    params: parsed.data,
    signal: a.signal,
    progress: (percent, message) => a.progress(percent, message),
    checkpoint: (value) => a.checkpoint(value),
    resume,
    attempt: w.attempt,
    taskId: w.taskId,
    tenant: w.tenant,
    user: w.user,
    log: a.log,
  };
  return await type.run(ctx);
}

function onError(a: RunningAttempt, w: WorkMessage, err: unknown): void {
  if (a.ended) return; // cancelled, timed out or superseded: that event says it all
  if (a.abortKind === 'shutdown') {
    a.fail({ code: 'worker_shutdown', message: 'the worker stopped while the task ran' }, w.attempt < w.maxAttempts);
    annotate({ [TelemetryAttributes.ErrorCode]: 'worker_shutdown' }, { ctx: a.trace, error: 'the worker stopped while the task ran' });
    return;
  }
  const f = classifyFailure(err);
  if (f.code === 'handler_error') a.log.warn('handler failed', { err });
  a.fail({ code: f.code, message: f.message }, willRetry(f, w.attempt, w.maxAttempts));
  annotate({ [TelemetryAttributes.ErrorCode]: f.code }, { ctx: a.trace, error: f.message });
}
