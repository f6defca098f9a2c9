import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { Blobs, connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { loadConfig } from '@errand/config';
import { contextFromTraceparent } from '@errand/telemetry';
import type { WorkMessage } from '@errand/contracts';
import { RunningAttempt } from './adapters/attempt.ts';
import type { WorkerDeps } from './deps.ts';

// The result cap, on the attempt that writes a handler's outcome: a real
// nats-server, the real event log and object store.
let server: NatsServer;
let nc: NatsConnection;
let deps: WorkerDeps;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'result-cap-test' });
  await provision(nc);
  deps = {
    config: loadConfig({ NATS_URL: server.url, ERRAND_RESULT_INLINE_MAX: '2048', ERRAND_MAX_RESULT_BYTES: '100000' }),
    nc,
    events: new EventLog(nc),
    blobs: new Blobs(nc),
    log: createLogger('worker', {}, 'error'),
    workerId: 'w-cap',
    registry: new Map(),
    abortGraceMs: 100,
  };
});
afterAll(async () => {
  deps?.events.close();
  await nc?.close();
  await server?.stop();
});

const work = (taskId: string): WorkMessage =>
  ({ taskId, tenant: 'acme', user: 'u', taskType: 'test.any', params: {}, attempt: 1, maxAttempts: 3, timeoutMs: 60_000, dispatchSeq: 1 }) as WorkMessage;

async function outcome(taskId: string, result: unknown) {
  const a = new RunningAttempt(deps, work(taskId), contextFromTraceparent(), undefined);
  a.complete(result);
  await a.drained();
  return await waitFor(async () => (await deps.events.history('acme', taskId)).map((s) => s.event).find((e) => e.type === 'completed' || e.type === 'failed'), {
    timeoutMs: 5_000,
    what: `the outcome of ${taskId}`,
  });
}

describe('a result over ERRAND_MAX_RESULT_BYTES', () => {
  it('fails the task with result_too_large, no retry, and stores nothing', async () => {
    const e = await outcome('cap-big', { rows: 'r'.repeat(200_000) });
    expect(e).toMatchObject({ type: 'failed', willRetry: false, error: { code: 'result_too_large' } });
    expect(e.type === 'failed' && e.error.message).toMatch(/over the limit of 100000 \(ERRAND_MAX_RESULT_BYTES\)/);
  });

  it('a result that is not JSON fails with invalid_result instead of hanging the task', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await outcome('cap-cyclic', cyclic)).toMatchObject({ type: 'failed', willRetry: false, error: { code: 'invalid_result' } });
  });

  it('under the cap: inline when small, in the object store when large', async () => {
    expect(await outcome('cap-small', { ok: 1 })).toMatchObject({ type: 'completed', result: { ok: 1 } });
    const large = await outcome('cap-large', { rows: 'r'.repeat(50_000) });
    expect(large).toMatchObject({ type: 'completed', resultRef: expect.stringMatching(/^obj:/) });
  });
});
