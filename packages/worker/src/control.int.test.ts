import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { Blobs, connectNats, EventLog, isWrongLastSequence, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { loadConfig } from '@errand/config';
import { CONSUMERS, STREAMS, makeEvent, type ErrandEvent, type EventOf } from '@errand/contracts';
import { buildWorker, type Worker } from './app.ts';
import { defineTaskType } from './registry.ts';
import { append, dispatch, publishWork, types, waitForEvent, testTypes, testLog } from './testkit.ts';

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
let worker: Worker;
let solo: Worker;
let gate: Worker;
const T = 'acme';
const task = (taskId: string) => ({ taskId, tenant: T });
const isRunning = (w: Worker, taskId: string) => w.running().some((r) => r.taskId === taskId);

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'worker-control-test' });
  await provision(nc);
  log = testLog(nc);
  const quiet = createLogger('worker', {}, 'error');
  const config = loadConfig({ NATS_URL: server.url, ERRAND_WORKER_CONCURRENCY: '4' });
  worker = buildWorker({ config, nc, log: quiet, workerId: 'w-main', types: testTypes() });
  const soloConfig = loadConfig({ NATS_URL: server.url, ERRAND_WORKER_CONCURRENCY: '1' });
  solo = buildWorker({ config: soloConfig, nc, log: quiet, workerId: 'w-solo', types: testTypes(), pool: 'solo' });
  const gateConfig = loadConfig({ NATS_URL: server.url });
  gate = buildWorker({ config: gateConfig, nc, log: quiet, workerId: 'w-gate', types: [cancelBetween], pool: 'gate' });
  await Promise.all([worker.start(), solo.start(), gate.start()]);
});
afterAll(async () => {
  await Promise.all([worker?.stop(), solo?.stop(), gate?.stop()]);
  log?.close();
  await nc?.close();
  await server?.stop();
});

const long = { durationMs: 20_000, steps: 400 }; // 50 ms steps

/**
 * Writes checkpoint 1, then a cancel request lands (written by the handler
 * itself, so it comes exactly there, before the control handler subscribes),
 * then checkpoint 2: its write is refused by the fence and finds the cancel.
 */
const cancelBetween = defineTaskType({
  name: 'test.cancel-between',
  params: z.object({}),
  run: async (ctx) => {
    await ctx.checkpoint(1);
    await append(log, makeEvent('cancel-requested', task(ctx.taskId), new Date(), { by: 'u1' }));
    await ctx.checkpoint(2);
    await new Promise((_resolve, reject) => {
      if (ctx.signal.aborted) reject(ctx.signal.reason as Error);
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
    });
  },
});

/** Append as a scheduler would: fenced on the task's last sequence, read again when refused. */
async function appendFenced(e: ErrandEvent): Promise<number> {
  return await waitFor(
    async () => {
      try {
        return (await log.append(e, { expectLastSeq: await log.lastSeq(e.tenant, e.taskId) })).seq;
      } catch (err) {
        if (isWrongLastSequence(err)) return undefined;
        throw err;
      }
    },
    { timeoutMs: 5000, intervalMs: 1, what: `${e.type} written fenced` },
  );
}

describe('control of a running task', () => {
  it('cancel-requested aborts the handler and writes cancelled with the last checkpoint as partial, then nothing', async () => {
    await dispatch(log, { taskId: 'can1', taskType: 'test.sleep', params: long });
    await waitForEvent(log, T, 'can1', 'checkpoint');
    const asked = Date.now();
    await append(log, makeEvent('cancel-requested', task('can1'), new Date(), { by: 'u1' }));
    await waitFor(() => !isRunning(worker, 'can1'), { timeoutMs: 5000, what: 'the handler to stop' });
    expect(Date.now() - asked).toBeLessThan(2000);
    const h = await log.history(T, 'can1');
    const events = h.map((x) => x.event);
    const cancelled = events.at(-1) as EventOf<'cancelled'>;
    expect(cancelled).toMatchObject({ type: 'cancelled', attempt: 1 });
    const lastCp = events.filter((e) => e.type === 'checkpoint').at(-1) as EventOf<'checkpoint'>;
    expect(cancelled.partial).toBe(lastCp.ref);
    expect(types(h).filter((t) => t === 'cancelled')).toHaveLength(1);
  });

  it('a cancel with discardPartial writes cancelled without partial', async () => {
    await dispatch(log, { taskId: 'can2', taskType: 'test.sleep', params: long });
    await waitForEvent(log, T, 'can2', 'checkpoint');
    await append(log, makeEvent('cancel-requested', task('can2'), new Date(), { by: 'u1', discardPartial: true }));
    const h = await waitForEvent(log, T, 'can2', 'cancelled');
    expect(h.at(-1)!.event).toMatchObject({ type: 'cancelled', attempt: 1 });
    expect((h.at(-1)!.event as EventOf<'cancelled'>).partial).toBeUndefined();
  });

  it('its own deadline aborts the handler and writes timed-out', async () => {
    await dispatch(log, { taskId: 'to1', taskType: 'test.sleep', params: long, timeoutMs: 200 });
    const h = await waitForEvent(log, T, 'to1', 'timed-out');
    const e = h.at(-1)!.event as EventOf<'timed-out'>;
    expect(e).toMatchObject({ attempt: 1, timeoutMs: 200 });
    expect(e.partial).toMatch(/^obj:cp\/acme\/to1\/1$/);
    await waitFor(() => !isRunning(worker, 'to1'), { what: 'the handler to stop' });
    expect(types(await log.history(T, 'to1')).at(-1)).toBe('timed-out');
  });

  it('a dispatch of a higher attempt stops the handler, which writes nothing more', async () => {
    // a checkpoint every millisecond or so: a write of attempt 1 is in flight when attempt 2 is dispatched
    const busy = { durationMs: 20_000, steps: 20_000 };
    const ids = ['sup1', 'sup2', 'sup3', 'sup4', 'sup5'];
    await Promise.all(ids.map((id) => dispatch(log, { taskId: id, taskType: 'test.sleep', params: busy })));
    for (const id of ids) {
      await waitForEvent(log, T, id, 'checkpoint', (e) => e.type === 'checkpoint' && (e.percent ?? 0) >= 0.02);
      const seq = await appendFenced(makeEvent('dispatched', task(id), new Date(), { attempt: 2, pool: 'other' }));
      await waitFor(() => !isRunning(worker, id), { what: 'the handler to stop' });
      // the slot is given back once the attempt's writes are done (or failed): nothing of attempt 1 can come later
      expect((await log.history(T, id, seq)).map((x) => x.event)).toEqual([]);
    }
  });

  it('a cancel request between two checkpoints: the second is written after it, then cancelled once with it as partial', async () => {
    await dispatch(log, { taskId: 'betw1', taskType: 'test.cancel-between', pool: 'gate' });
    await waitFor(() => !isRunning(gate, 'betw1'), { what: 'the handler to stop' });
    const h = await waitForEvent(log, T, 'betw1', 'cancelled');
    expect(types(h)).toEqual(['submitted', 'dispatched', 'started', 'checkpoint', 'cancel-requested', 'checkpoint', 'cancelled']);
    const cancelled = h.at(-1)!.event as EventOf<'cancelled'>;
    expect(cancelled).toMatchObject({ type: 'cancelled', attempt: 1 });
    const lastCp = h.at(-2)!.event as EventOf<'checkpoint'>;
    expect(cancelled.partial).toBe(lastCp.ref);
    expect(await new Blobs(nc).getJson(cancelled.partial)).toEqual({ value: 2 });
  });

  it('drops a work message whose task was cancelled before it started', async () => {
    // the scheduler's part by hand: dispatched, then a cancel, then the work message
    const { work } = await dispatch(log, { taskId: 'pre1', taskType: 'test.noop', publish: false });
    await append(log, makeEvent('cancel-requested', task('pre1'), new Date(), { by: 'u1' }));
    await publishWork(log, work);
    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info(STREAMS.work, CONSUMERS.worker('default', 'test.noop'));
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      { what: 'the work message handled' },
    );
    expect(types(await log.history(T, 'pre1'))).toEqual(['submitted', 'dispatched', 'cancel-requested']);
  });

  it('stop() aborts running handlers and reports them failed for a retry', async () => {
    const config = loadConfig({ NATS_URL: server.url });
    const w = buildWorker({ config, nc, log: createLogger('worker', {}, 'error'), workerId: 'w-drain', types: testTypes(), pool: 'drain' });
    await w.start();
    await dispatch(log, { taskId: 'drain1', taskType: 'test.sleep', params: long, pool: 'drain' });
    await waitForEvent(log, T, 'drain1', 'started');
    const t0 = Date.now();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    const h = await log.history(T, 'drain1');
    expect(h.at(-1)!.event).toMatchObject({ type: 'failed', attempt: 1, willRetry: true, error: { code: 'worker_shutdown' } });
  });

  it('a worker with one slot never holds two tasks, across its types', async () => {
    let most = 0;
    let mostHeld = 0;
    const probe = setInterval(() => (most = Math.max(most, solo.running().length)), 5);
    const jsm = await jetstreamManager(nc);
    let probing = true;
    // messages delivered and not yet acked, over both of its consumers: never more than its one slot
    const held = (async () => {
      while (probing) {
        const infos = await Promise.all(['test.sleep', 'test.noop'].map((t) => jsm.consumers.info(STREAMS.work, CONSUMERS.worker('solo', t))));
        mostHeld = Math.max(mostHeld, infos.reduce((n, i) => n + i.num_ack_pending, 0));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const ids = ['solo1', 'solo2', 'solo3', 'solo4'];
    for (const [i, id] of ids.entries()) {
      const params = i % 2 ? { result: id } : { durationMs: 60, steps: 2 };
      await dispatch(log, { taskId: id, taskType: i % 2 ? 'test.noop' : 'test.sleep', params, pool: 'solo' });
    }
    const spans: [number, number][] = [];
    for (const id of ids) {
      const h = await waitForEvent(log, T, id, 'completed');
      const started = h.find((x) => x.event.type === 'started')!;
      const done = h.find((x) => x.event.type === 'completed')!;
      spans.push([started.seq, done.seq]);
    }
    clearInterval(probe);
    probing = false;
    await held;
    expect(most).toBe(1);
    expect(mostHeld).toBeLessThanOrEqual(1);
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThan(spans[i - 1]![1]);
  });
});
