import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { Blobs, connectNats, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { startNatsServer, type NatsServer } from '@errand/testing';
import { blobNames, type TaskRecord } from '@errand/contracts';
import { Janitor } from './janitor.ts';

let server: NatsServer;
let nc: NatsConnection;
let blobs: Blobs;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'janitor-test' });
  await provision(nc);
  blobs = new Blobs(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const exists = async (name: string) => (await blobs.getJson(`obj:${name}`)) !== undefined;
const record = (id: string, state: TaskRecord['state'], attempt: number, discardPartial?: boolean) =>
  ({ id, tenant: 't', state, attempt, checkpointRef: `obj:${blobNames.checkpoint('t', id, attempt)}`, ...(discardPartial ? { discardPartial } : {}) }) as TaskRecord;

describe('Janitor', () => {
  it('removes a completed task’s checkpoints of every attempt, and a cancel’s with discardPartial', async () => {
    const j = new Janitor(blobs, createLogger('test', {}, 'error'), 86_400_000);
    for (const a of [1, 2]) await blobs.putJson(blobNames.checkpoint('t', 'done', a), { a });
    await blobs.putJson(blobNames.checkpoint('t', 'gone', 1), 1);
    await blobs.putJson(blobNames.checkpoint('t', 'kept', 1), 1);
    j.ended(record('done', 'completed', 2));
    j.ended(record('gone', 'cancelled', 1, true));
    j.ended(record('kept', 'cancelled', 1));
    await j.idle();
    expect(await exists(blobNames.checkpoint('t', 'done', 1))).toBe(false);
    expect(await exists(blobNames.checkpoint('t', 'done', 2))).toBe(false);
    expect(await exists(blobNames.checkpoint('t', 'gone', 1))).toBe(false);
    expect(await exists(blobNames.checkpoint('t', 'kept', 1))).toBe(true);
  });

  it('sweeps partial results past their retention, but never a running task’s', async () => {
    const j = new Janitor(blobs, createLogger('test', {}, 'error'), 0, 0);
    await blobs.putJson(blobNames.checkpoint('t', 'old', 1), 1);
    await blobs.putJson(blobNames.checkpoint('t', 'live', 1), 1);
    j.maybeSweep(Date.now() + 1_000, (_t, id) => id === 'live');
    await j.idle();
    expect(await exists(blobNames.checkpoint('t', 'old', 1))).toBe(false);
    expect(await exists(blobNames.checkpoint('t', 'live', 1))).toBe(true);
  });
});
