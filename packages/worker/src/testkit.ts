/** Helpers of the worker's integration tests (never built into dist/): the test plays the scheduler. */
import { z } from 'zod';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { makeEvent, encodeJson, subjects, workMsgId, type ErrandEvent, type WorkMessage } from '@errand/contracts';
import { EventLog, type StoredEvent } from '@errand/nats';
import { waitFor } from '@errand/testing';
import { defineTaskType, type AnyTaskType } from './registry.ts';
import { TaskError } from './errors.ts';

function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => (clearTimeout(timer), reject(signal.reason as Error));
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `test.noop`: returns params.result at once. */
export const testNoop = defineTaskType({
  name: 'test.noop',
  params: z.object({ result: z.unknown().optional() }),
  run: (ctx) => ctx.params.result ?? null,
});

/**
 * `test.sleep`: like the built-in demo.sleep (steps with progress and a
 * checkpoint each, resume after the last checkpoint, fail at a step).
 */
export const testSleep = defineTaskType({
  name: 'test.sleep',
  params: z.object({
    durationMs: z.number().int().min(0),
    steps: z.number().int().min(1).default(10),
    failAtStep: z.number().int().min(1).optional(),
    failAttempts: z.number().int().min(1).optional(),
    result: z.unknown().optional(),
  }),
  run: async (ctx) => {
    const p = ctx.params;
    const from = typeof ctx.resume === 'number' ? ctx.resume : 0;
    for (let step = from + 1; step <= p.steps; step++) {
      if (p.failAtStep === step && ctx.attempt <= (p.failAttempts ?? Infinity)) {
        throw new TaskError('step_failed', `failed on reaching step ${step} (attempt ${ctx.attempt})`);
      }
      await sleepFor(p.durationMs / p.steps, ctx.signal);
      ctx.progress(Math.round((step / p.steps) * 10_000) / 100, `step ${step} of ${p.steps}`);
      await ctx.checkpoint(step);
    }
    return { steps: p.steps, resumedFrom: from, result: p.result ?? null };
  },
});

export const testTypes = (): AnyTaskType[] => [testNoop, testSleep];

export interface DispatchSpec {
  tenant?: string;
  taskId: string;
  taskType: string;
  params?: unknown;
  attempt?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  pool?: string;
  resume?: string;
  /** false: append the events but leave publishing the work message to the test */
  publish?: boolean;
}

/** Append `submitted` (first attempt only) and `dispatched`, then publish the work message. */
export async function dispatch(log: EventLog, s: DispatchSpec): Promise<{ work: WorkMessage; dispatchSeq: number }> {
  const tenant = s.tenant ?? 'acme';
  const task = { taskId: s.taskId, tenant };
  const attempt = s.attempt ?? 1;
  const timeoutMs = s.timeoutMs ?? 30_000;
  if (attempt === 1) {
    await log.append(
      makeEvent('submitted', task, new Date(), {
        user: 'u1',
        taskType: s.taskType,
        params: s.params ?? {},
        priority: 5,
        timeoutMs,
        progressEveryMs: 1000,
        deliver: [],
      }),
    );
  }
  const last = await log.lastSeq(tenant, s.taskId);
  const d = await log.append(makeEvent('dispatched', task, new Date(), { attempt, pool: s.pool ?? 'default' }), { expectLastSeq: last });
  const work: WorkMessage = {
    taskId: s.taskId,
    tenant,
    user: 'u1',
    taskType: s.taskType,
    params: s.params ?? {},
    attempt,
    maxAttempts: s.maxAttempts ?? 3,
    timeoutMs,
    dispatchSeq: d.seq,
    ...(s.resume ? { resume: s.resume } : {}),
  };
  if (s.publish !== false) await publishWork(log, work, s.pool ?? 'default');
  return { work, dispatchSeq: d.seq };
}

/** The connections of the tests' event logs (the log keeps its own to itself). */
const connections = new WeakMap<EventLog, NatsConnection>();

/** A test's event log on `nc`, remembered so that work messages can be published beside it. */
export function testLog(nc: NatsConnection): EventLog {
  const log = new EventLog(nc);
  connections.set(log, nc);
  return log;
}

export async function publishWork(log: EventLog, work: WorkMessage, pool = 'default', msgID = workMsgId(work.taskId, work.attempt)) {
  const nc = connections.get(log);
  if (!nc) throw new Error('publishWork needs an event log made by testLog(nc)');
  await jetstream(nc).publish(subjects.work(pool, work.taskType), encodeJson(work), { msgID });
}

export async function append(log: EventLog, e: ErrandEvent): Promise<void> {
  await log.append(e, { idExtra: `${Date.now()}` });
}

/** Wait until the task's history holds an event of `type` (optionally matching), and return the history. */
export async function waitForEvent(
  log: EventLog,
  tenant: string,
  taskId: string,
  type: string,
  match: (e: ErrandEvent) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<StoredEvent[]> {
  return await waitFor(
    async () => {
      const h = await log.history(tenant, taskId);
      return h.some((x) => x.event.type === type && match(x.event)) ? h : undefined;
    },
    { timeoutMs, what: `${type} of ${taskId}`, intervalMs: 20 },
  );
}

export const types = (h: StoredEvent[]) => h.map((x) => x.event.type);
