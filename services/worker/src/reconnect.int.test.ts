import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { connectNats, createLogger, EventLog, provision } from '@errand/nats';
import { loadConfig } from '@errand/config';
import { makeEvent } from '@errand/contracts';
import { buildWorker, type Worker } from './app.ts';
import { append, dispatch, waitForEvent } from './testkit.ts';

let server: NatsServer;
let nc: NatsConnection;
let workerNc: NatsConnection;
let log: EventLog;
let worker: Worker;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'test' });
  workerNc = await connectNats({ url: server.url, name: 'worker' });
  await provision(nc);
  log = new EventLog(nc);
  worker = buildWorker({ config: loadConfig({ NATS_URL: server.url }), nc: workerNc, log: createLogger('worker', {}, 'error'), workerId: 'w-rc' });
  await worker.start();
});
afterAll(async () => {
  await worker?.stop();
  log?.close();
  await Promise.all([nc?.close(), workerNc?.close()]);
  await server?.stop();
});

it('a cancel written right after a server restart still stops the running task', async () => {
  await dispatch(log, { taskId: 'rc1', taskType: 'demo.sleep', params: { durationMs: 30_000, steps: 300 } });
  await waitForEvent(log, 'acme', 'rc1', 'checkpoint');
  await server.kill();
  await server.restart();
  // written as soon as the test's own connection is back: the worker may not have resubscribed yet
  await waitFor(() => append(log, makeEvent('cancel-requested', { taskId: 'rc1', tenant: 'acme' }, new Date(), { by: 'u1' })).then(() => true), {
    timeoutMs: 15_000,
    what: 'the cancel to be written',
  });
  const h = await waitForEvent(log, 'acme', 'rc1', 'cancelled', () => true, 20_000);
  expect(h.at(-1)!.event).toMatchObject({ type: 'cancelled', attempt: 1 });
  await waitFor(() => worker.running().length === 0, { what: 'the handler to stop' });
});
