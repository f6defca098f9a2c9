/** Helpers of the worker's integration tests: the test plays the scheduler. */
import { makeEvent, encodeJson, subjects, type ErrandEvent, type WorkMessage } from '@errand/contracts';
import type { EventLog, StoredEvent } from '@errand/nats';
import { waitFor } from '@errand/testing';

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

export async function publishWork(log: EventLog, work: WorkMessage, pool = 'default', msgID = `work:${work.taskId}:${work.attempt}`) {
  await log.publisher.publish(subjects.work(pool, work.taskType), encodeJson(work), { msgID });
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
