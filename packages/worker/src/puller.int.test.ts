import { afterAll, beforeAll, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { loadConfig } from '@errand/config';
import { CONSUMERS, STREAMS } from '@errand/contracts';
import { buildWorker, type Worker } from './app.ts';
import { workConsumer } from './adapters/puller.ts';
import { dispatch, waitForEvent, testTypes, testLog } from './testkit.ts';

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
let worker: Worker;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'test' });
  await provision(nc);
  log = testLog(nc);
  const workerNc = await connectNats({ url: server.url, name: 'worker' });
  worker = buildWorker({ config: loadConfig({ NATS_URL: server.url }), nc: workerNc, log: createLogger('worker', {}, 'silent'), workerId: 'w-pull', types: testTypes() });
  await worker.start();
});
afterAll(async () => {
  await worker?.stop();
  log?.close();
  await nc?.close();
  await server?.stop();
});

/** how many pull requests the worker has open on `type`'s consumer */
async function waiting(type: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.info(STREAMS.work, CONSUMERS.worker('default', type)).catch(() => undefined);
  return info?.num_waiting ?? 0;
}

// A cluster's consumer leader dying fails the worker's pulls one consumer at a
// time, a little apart. Each failure pauses pulling for 1 s: a later failure
// that moves the pause past the pending retry must not leave the worker with
// no retry at all (it used to, and then pulled nothing ever again).
it('pulls again after its consumers failed one after another', async () => {
  await waitFor(async () => (await waiting('test.noop')) > 0 && (await waiting('test.sleep')) > 0, { what: 'open pulls on both consumers' });
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.delete(STREAMS.work, CONSUMERS.worker('default', 'test.noop'));
  await new Promise((r) => setTimeout(r, 400)); // the gap between the two failures is the point of the test
  await jsm.consumers.delete(STREAMS.work, CONSUMERS.worker('default', 'test.sleep'));
  await workConsumer(nc, jsm, 'default', 'test.noop');
  await workConsumer(nc, jsm, 'default', 'test.sleep');
  await dispatch(log, { taskId: 'pull1', taskType: 'test.noop', params: { result: 1 } });
  await dispatch(log, { taskId: 'pull2', taskType: 'test.sleep', params: { durationMs: 10, steps: 1 } });
  const [a, b] = await Promise.all([waitForEvent(log, 'acme', 'pull1', 'completed', () => true, 15_000), waitForEvent(log, 'acme', 'pull2', 'completed', () => true, 15_000)]);
  expect(a.at(-1)!.event.type).toBe('completed');
  expect(b.at(-1)!.event.type).toBe('completed');
});
