import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { connectNats, createLogger, EventLog, provision } from '@errand/nats';
import { loadConfig } from '@errand/config';
import { BUCKETS, decodeJson, makeEvent, subjects, taskTypeInfoSchema, type EventOf, type Heartbeat } from '@errand/contracts';
import { buildWorker, type Worker } from './app.ts';
import { defineTaskType } from './registry.ts';
import { dispatch, publishWork, types, waitForEvent } from './testkit.ts';
import { Blobs } from '@errand/nats';

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
let worker: Worker;
const runs = new Map<string, number>();
const T = 'acme';

const counted = defineTaskType({
  name: 'test.counted',
  params: z.object({ big: z.number().int().optional() }),
  defaults: {},
  run: (ctx) => {
    runs.set(ctx.taskId, (runs.get(ctx.taskId) ?? 0) + 1);
    return ctx.params.big ? { blob: 'x'.repeat(ctx.params.big) } : { ok: true };
  },
});

let release: () => void = () => undefined;
const stubborn = defineTaskType({
  name: 'test.stubborn',
  params: z.object({}),
  defaults: {},
  run: async (ctx) => {
    ctx.progress(10, 'ignoring my signal');
    await new Promise<void>((r) => (release = r));
    ctx.progress(90, 'after the cancel: never written');
    return { late: true };
  },
});

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'worker-test' });
  await provision(nc);
  log = new EventLog(nc);
  const config = loadConfig({ NATS_URL: server.url, ERRAND_HEARTBEAT_MS: '100', ERRAND_WORKER_CONCURRENCY: '4', ERRAND_RESULT_INLINE_MAX: '2048' });
  worker = buildWorker({ config, nc, log: createLogger('worker', {}, 'error'), workerId: 'w-test', types: [counted, stubborn], reportMsPerDay: 5 });
  await worker.start();
});
afterAll(async () => {
  await worker?.stop();
  log?.close();
  await nc?.close();
  await server?.stop();
});

describe('worker', () => {
  it('publishes its task types with JSON Schemas to KV errand_types', async () => {
    const kv = await new Kvm(nc).open(BUCKETS.types);
    for (const name of ['demo.noop', 'demo.sleep', 'demo.report', 'test.counted']) {
      const entry = await kv.get(name);
      const info = taskTypeInfoSchema.parse(decodeJson(entry!.value));
      expect(info.name).toBe(name);
      expect(info.paramsSchema).toMatchObject({ type: 'object' });
    }
  });

  it('runs demo.sleep: started, throttled progress (first and last kept), checkpoints, completed, in order', async () => {
    const beats: Heartbeat[] = [];
    const sub = nc.subscribe(subjects.heartbeat, { callback: (_e, m) => void beats.push(decodeJson(m.data) as Heartbeat) });
    await dispatch(log, { taskId: 'sleep1', taskType: 'demo.sleep', params: { durationMs: 600, steps: 6, result: 'r' } });
    const h = await waitForEvent(log, T, 'sleep1', 'completed');
    sub.unsubscribe();
    const ts = types(h);
    expect(ts.slice(0, 3)).toEqual(['submitted', 'dispatched', 'started']);
    expect(ts.at(-1)).toBe('completed');
    const events = h.map((x) => x.event);
    for (const e of events.slice(2)) expect(e).toMatchObject({ attempt: 1 });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThan(6); // 100 ms steps, at most one per 250 ms
    expect(progress[0]).toMatchObject({ percent: 16.67 });
    expect(progress.at(-1)).toMatchObject({ percent: 100 });
    expect(progress.slice(1).some((p) => p.type === 'progress' && p.etaMs !== undefined)).toBe(true);
    const checkpoints = events.filter((e) => e.type === 'checkpoint');
    expect(checkpoints).toHaveLength(6);
    expect(checkpoints[0]).toMatchObject({ ref: 'obj:cp/acme/sleep1/1' });
    expect(events.at(-1)).toMatchObject({ type: 'completed', result: { steps: 6, resumedFrom: 0, result: 'r' } });
    expect(events.find((e) => e.type === 'started')).toMatchObject({ workerId: 'w-test' });
    expect(beats.some((b) => b.workerId === 'w-test' && b.tasks.some((t) => t.taskId === 'sleep1' && t.attempt === 1))).toBe(true);
  });

  it('fails retryably at failAtStep, then resumes after the last checkpoint on the next attempt', async () => {
    const params = { durationMs: 80, steps: 4, failAtStep: 3, failAttempts: 1 };
    await dispatch(log, { taskId: 'retry1', taskType: 'demo.sleep', params });
    let h = await waitForEvent(log, T, 'retry1', 'failed');
    const failed = h.at(-1)!.event;
    expect(failed).toMatchObject({ type: 'failed', attempt: 1, willRetry: true, error: { code: 'step_failed' } });
    const cps = h.filter((x) => x.event.type === 'checkpoint');
    expect(cps).toHaveLength(2);
    const resume = (cps.at(-1)!.event as EventOf<'checkpoint'>).ref;
    expect(await new Blobs(nc).getJson(resume)).toEqual({ value: 2 });

    await dispatch(log, { taskId: 'retry1', taskType: 'demo.sleep', params, attempt: 2, resume });
    h = await waitForEvent(log, T, 'retry1', 'completed');
    const events = h.map((x) => x.event);
    expect(events.find((e) => e.type === 'started' && e.attempt === 2)).toMatchObject({ resumedFrom: resume });
    expect(events.at(-1)).toMatchObject({ type: 'completed', attempt: 2, result: { steps: 4, resumedFrom: 2 } });
  });

  it('says willRetry false when the last attempt fails, and invalid params are never retried', async () => {
    await dispatch(log, { taskId: 'last1', taskType: 'demo.sleep', params: { durationMs: 10, steps: 2, failAtStep: 1 }, maxAttempts: 1 });
    const h = await waitForEvent(log, T, 'last1', 'failed');
    expect(h.at(-1)!.event).toMatchObject({ attempt: 1, willRetry: false });

    await dispatch(log, { taskId: 'bad1', taskType: 'demo.sleep', params: { durationMs: 'soon' } });
    const b = await waitForEvent(log, T, 'bad1', 'failed');
    expect(b.at(-1)!.event).toMatchObject({ willRetry: false, error: { code: 'invalid_params' } });
  });

  it('runs demo.noop and keeps a large result in the object store', async () => {
    await dispatch(log, { taskId: 'noop1', taskType: 'demo.noop', params: { result: { answer: 42 } } });
    const h = await waitForEvent(log, T, 'noop1', 'completed');
    expect(types(h)).toEqual(['submitted', 'dispatched', 'started', 'completed']);
    expect(h.at(-1)!.event).toMatchObject({ result: { answer: 42 } });

    await dispatch(log, { taskId: 'big1', taskType: 'test.counted', params: { big: 5000 } });
    const b = await waitForEvent(log, T, 'big1', 'completed');
    const done = b.at(-1)!.event as EventOf<'completed'>;
    expect(done.result).toBeUndefined();
    expect(done.resultRef).toBe('obj:result/acme/big1');
    expect(await new Blobs(nc).getJson(done.resultRef!)).toEqual({ value: { blob: 'x'.repeat(5000) } });
  });

  it('runs the handler once for a duplicated work message of the same attempt', async () => {
    const { work } = await dispatch(log, { taskId: 'dup1', taskType: 'test.counted' });
    await publishWork(log, work, 'default', 'work:dup1:1:again');
    await publishWork(log, work, 'default', 'work:dup1:1:again2');
    await waitForEvent(log, T, 'dup1', 'completed');
    const jsm = await log.jsm();
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info('ERRAND_WORK', 'errand-worker-default-test_counted');
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      { what: 'every work message handled' },
    );
    expect(runs.get('dup1')).toBe(1);
    const h = await log.history(T, 'dup1');
    expect(types(h).filter((t) => t === 'started')).toHaveLength(1);
  });

  it('records the late result of a handler that ignores its signal after the cancel (fenced by the fold)', async () => {
    await dispatch(log, { taskId: 'stub1', taskType: 'test.stubborn' });
    await waitForEvent(log, T, 'stub1', 'progress');
    await log.append(makeEvent('cancel-requested', { taskId: 'stub1', tenant: T }, new Date(), { by: 'u1' }), { idExtra: 'x' });
    await waitForEvent(log, T, 'stub1', 'cancelled');
    release();
    const h = await waitForEvent(log, T, 'stub1', 'completed');
    expect(types(h).slice(2)).toEqual(['started', 'progress', 'cancel-requested', 'cancelled', 'completed']);
    expect(h.at(-1)!.event).toMatchObject({ attempt: 1, result: { late: true } });
  });

  it('runs demo.report with a message per day and a result document', async () => {
    await dispatch(log, { taskId: 'rep1', taskType: 'demo.report', params: { days: 3 } });
    const h = await waitForEvent(log, T, 'rep1', 'completed');
    const progress = h.map((x) => x.event).filter((e) => e.type === 'progress');
    expect(progress[0]).toMatchObject({ message: expect.stringMatching(/^Day 1 of 3/) });
    expect(progress.at(-1)).toMatchObject({ percent: 100, message: expect.stringMatching(/^Day 3 of 3/) });
    const result = (h.at(-1)!.event as EventOf<'completed'>).result as { rows: unknown[]; summary: string; totals: { orders: number } };
    expect(result.rows).toHaveLength(3);
    expect(result.summary).toContain('Over 3 days');
    expect(result.totals.orders).toBeGreaterThan(0);
  });
});
