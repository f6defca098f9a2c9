import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { BUCKETS, decodeJson, encodeJson, makeEvent, subjects, type EventOf, type WorkMessage, workMsgId } from '@errand/contracts';
import { startWorker, type RunningWorker } from '@errand/worker';
import { builtinTypes } from './task-types/index.ts';

// The built-in worker through the public SDK, as main.ts starts it: the test plays the scheduler.

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
let worker: RunningWorker;
const T = 'acme';

/** Append `submitted` and `dispatched`, then publish the work message on the type's subject. */
async function dispatch(taskId: string, taskType: string, params: unknown): Promise<void> {
  const task = { taskId, tenant: T };
  await log.append(makeEvent('submitted', task, new Date(), { user: 'u1', taskType, params, priority: 5, timeoutMs: 30_000, progressEveryMs: 1000, deliver: [] }));
  const d = await log.append(makeEvent('dispatched', task, new Date(), { attempt: 1, pool: 'default' }), { expectLastSeq: await log.lastSeq(T, taskId) });
  const work: WorkMessage = { taskId, tenant: T, user: 'u1', taskType, params, attempt: 1, maxAttempts: 3, timeoutMs: 30_000, dispatchSeq: d.seq };
  await jetstream(nc).publish(subjects.work('default', taskType), encodeJson(work), { msgID: workMsgId(taskId, 1) });
}

const completed = async (taskId: string) =>
  await waitFor(
    async () => {
      const h = await log.history(T, taskId);
      return h.find((x) => x.event.type === 'completed')?.event as EventOf<'completed'> | undefined;
    },
    { what: `${taskId} to complete`, timeoutMs: 15_000 },
  );

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'builtin-test' });
  await provision(nc);
  log = new EventLog(nc);
  worker = await startWorker({ types: builtinTypes({ reportMsPerDay: 5 }), natsUrl: server.url, log: createLogger('worker', {}, 'error') });
});
afterAll(async () => {
  await worker?.stop();
  log?.close();
  await nc?.close();
  await server?.stop();
});

describe('the built-in worker on @errand/worker', () => {
  it('registers exactly demo.noop, demo.sleep and demo.report', async () => {
    expect(worker.types).toEqual(['demo.noop', 'demo.sleep', 'demo.report']);
    const kv = await new Kvm(nc).open(BUCKETS.types);
    const names: string[] = [];
    for await (const k of await kv.keys()) names.push(k);
    expect(names.sort()).toEqual(['demo.noop', 'demo.report', 'demo.sleep']);
    const sleep = decodeJson((await kv.get('demo.sleep'))!.value) as { paramsSchema: { required: string[] } };
    expect(sleep.paramsSchema.required).toEqual(['durationMs']);
  });

  it('runs demo.noop, demo.sleep and demo.report (a message per day and a result document)', async () => {
    await dispatch('noop1', 'demo.noop', { result: { answer: 42 } });
    await dispatch('sleep1', 'demo.sleep', { durationMs: 100, steps: 2, result: 'r' });
    await dispatch('rep1', 'demo.report', { days: 3 });
    expect((await completed('noop1')).result).toEqual({ answer: 42 });
    expect((await completed('sleep1')).result).toEqual({ steps: 2, resumedFrom: 0, result: 'r' });
    const report = (await completed('rep1')).result as { rows: unknown[]; summary: string; totals: { orders: number } };
    expect(report.rows).toHaveLength(3);
    expect(report.summary).toContain('Over 3 days');
    const progress = (await log.history(T, 'rep1')).map((x) => x.event).filter((e) => e.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ percent: 100, message: expect.stringMatching(/^Day 3 of 3/) });
  });
});
