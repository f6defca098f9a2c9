import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { BUCKETS, CONSUMERS, STREAMS, decodeJson, heartbeatSchema, subjects, type Heartbeat } from '@errand/contracts';
import { defineTaskType, startWorker, WorkerStartError, z, type RunningWorker } from './index.ts';
import { dispatch, waitForEvent, testLog } from './testkit.ts';

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
const beats: Heartbeat[] = [];
const quiet = createLogger('worker', {}, 'error');

const echo = (name: string, params = z.object({ text: z.string() })) =>
  defineTaskType({ name, params, run: (ctx) => ({ by: name, echo: (ctx.params as { text: string }).text }) });

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'start-test' });
  await provision(nc);
  log = testLog(nc);
  nc.subscribe(subjects.heartbeat, { callback: (_e, m) => void beats.push(heartbeatSchema.parse(decodeJson(m.data))) });
});
afterAll(async () => {
  log?.close();
  await nc?.close();
  await server?.stop();
});

describe('startWorker', () => {
  it('resolves once its types are in KV and its first heartbeat is out; stop() sends a stopping beat and closes', async () => {
    const w = await startWorker({ types: [echo('docs.summarise')], natsUrl: server.url, concurrency: 2, log: quiet });
    const kv = await new Kvm(nc).open(BUCKETS.types);
    expect(decodeJson((await kv.get('docs.summarise'))!.value)).toMatchObject({ name: 'docs.summarise', pool: 'default' });
    await waitFor(() => beats.some((b) => b.workerId === w.workerId), { what: 'the first beat' });
    expect(beats.find((b) => b.workerId === w.workerId)).toMatchObject({ types: ['docs.summarise'], slots: 2, freeSlots: 2 });
    await w.stop();
    await waitFor(() => beats.some((b) => b.workerId === w.workerId && b.stopping === true), { what: 'the stopping beat' });
    expect(beats.filter((b) => b.workerId === w.workerId).at(-1)).toMatchObject({ stopping: true, types: ['docs.summarise'] });
  });

  it("puts a type on its own pool, else the worker's; one consumer per pool and type", async () => {
    const gpu = defineTaskType({ name: 'img.render', params: z.object({}), defaults: { pool: 'gpu' }, run: () => 'img' });
    const w = await startWorker({ types: [gpu, echo('docs.translate')], natsUrl: server.url, pool: 'batch', log: quiet });
    try {
      const kv = await new Kvm(nc).open(BUCKETS.types);
      expect(decodeJson((await kv.get('img.render'))!.value)).toMatchObject({ pool: 'gpu' });
      expect(decodeJson((await kv.get('docs.translate'))!.value)).toMatchObject({ pool: 'batch' });
      const jsm = await jetstreamManager(nc);
      const a = await jsm.consumers.info(STREAMS.work, CONSUMERS.worker('gpu', 'img.render'));
      expect(a.config.filter_subject).toBe(subjects.work('gpu', 'img.render'));
      const b = await jsm.consumers.info(STREAMS.work, CONSUMERS.worker('batch', 'docs.translate'));
      expect(b.config.filter_subject).toBe('errand.work.batch.docs_translate');
    } finally {
      await w.stop();
    }
  });

  it('refuses a bad name, a tool-name clash (own set or KV) and params naming errand, all at once', async () => {
    const err = await startWorker({
      types: [echo('9lives'), echo('a.b'), echo('a_b'), echo('with.errand', z.object({ errand: z.string() }) as never)],
      natsUrl: server.url,
      log: quiet,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerStartError);
    const problems = (err as WorkerStartError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/"9lives" is not valid/);
    expect(problems.join('\n')).toMatch(/a\.b and a_b would share/);
    expect(problems.join('\n')).toMatch(/with\.errand: its params may not name a property "errand"/);
    // docs.summarise is in KV from the first test: docs_summarise would take its tool name
    await expect(startWorker({ types: [echo('docs_summarise')], natsUrl: server.url, log: quiet })).rejects.toThrow(/registered type docs\.summarise/);
  });

  it('routes by type: two workers on one pool each run only their own type', async () => {
    let w1: RunningWorker | undefined;
    let w2: RunningWorker | undefined;
    try {
      w1 = await startWorker({ types: [echo('route.one')], natsUrl: server.url, log: quiet });
      w2 = await startWorker({ types: [echo('route.two')], natsUrl: server.url, log: quiet });
      for (let i = 0; i < 4; i++) {
        await dispatch(log, { taskId: `r1-${i}`, taskType: 'route.one', params: { text: `one ${i}` } });
        await dispatch(log, { taskId: `r2-${i}`, taskType: 'route.two', params: { text: `two ${i}` } });
      }
      for (let i = 0; i < 4; i++) {
        const h1 = await waitForEvent(log, 'acme', `r1-${i}`, 'completed');
        expect(h1.find((x) => x.event.type === 'started')!.event).toMatchObject({ workerId: w1.workerId });
        expect(h1.at(-1)!.event).toMatchObject({ result: { by: 'route.one', echo: `one ${i}` } });
        const h2 = await waitForEvent(log, 'acme', `r2-${i}`, 'completed');
        expect(h2.find((x) => x.event.type === 'started')!.event).toMatchObject({ workerId: w2.workerId });
      }
    } finally {
      await Promise.all([w1?.stop(), w2?.stop()]);
    }
  });
});
