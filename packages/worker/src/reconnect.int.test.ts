import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { loadConfig } from '@errand/config';
import { makeEvent } from '@errand/contracts';
import { buildWorker, type Worker } from './app.ts';
import { append, dispatch, waitForEvent, testTypes, testLog } from './testkit.ts';

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
  log = testLog(nc);
  worker = buildWorker({ config: loadConfig({ NATS_URL: server.url }), nc: workerNc, log: createLogger('worker', {}, 'error'), workerId: 'w-rc', types: testTypes() });
  await worker.start();
});
afterAll(async () => {
  await worker?.stop();
  log?.close();
  await Promise.all([nc?.close(), workerNc?.close()]);
  await server?.stop();
});

it('a cancel written right after a server restart still stops the running task', async () => {
  await dispatch(log, { taskId: 'rc1', taskType: 'test.sleep', params: { durationMs: 30_000, steps: 300 } });
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

/** A TCP proxy between the worker and the server, whose link the test can cut while the server stays up. */
async function linkProxy(targetPort: number) {
  const { createServer, connect } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  let open = true;
  const srv = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
    sockets.add(client);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `nats://127.0.0.1:${(srv.address() as { port: number }).port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

it('a cancel written while the worker was cut off is found in the log when it reconnects', async () => {
  const link = await linkProxy(server.port);
  const cutNc = await connectNats({ url: link.url, name: 'worker-cut' });
  const cutWorker = buildWorker({ config: loadConfig({ NATS_URL: link.url }), nc: cutNc, log: createLogger('worker', {}, 'error'), workerId: 'w-cut', types: testTypes() });
  await worker.stop(); // only the worker behind the proxy takes this task
  await cutWorker.start();
  try {
    await dispatch(log, { taskId: 'rc2', taskType: 'test.sleep', params: { durationMs: 30_000, steps: 300 } });
    await waitForEvent(log, 'acme', 'rc2', 'checkpoint');
    link.cut();
    // written while the worker cannot hear it: only its re-read after reconnecting can find it
    await append(log, makeEvent('cancel-requested', { taskId: 'rc2', tenant: 'acme' }, new Date(), { by: 'u1' }));
    expect((await log.history('acme', 'rc2')).map((e) => e.event.type)).not.toContain('cancelled');
    link.restore();
    const h = await waitForEvent(log, 'acme', 'rc2', 'cancelled', () => true, 20_000);
    expect(h.at(-1)!.event).toMatchObject({ type: 'cancelled', attempt: 1 });
    await waitFor(() => cutWorker.running().length === 0, { what: 'the handler to stop' });
  } finally {
    await cutWorker.stop();
    await cutNc.close();
    await link.close();
  }
});
