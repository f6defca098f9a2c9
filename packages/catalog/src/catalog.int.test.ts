import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, encodeJson, subjects, type Heartbeat, type TaskTypeInfo } from '@errand/contracts';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { TypeCatalog, type CatalogChange } from './catalog.ts';

let server: NatsServer;
let nc: NatsConnection;
const log = { warn() {} };

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  await new Kvm(nc).create(BUCKETS.types);
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const info = (name: string): TaskTypeInfo => ({
  name,
  paramsSchema: { type: 'object' },
  pool: 'default',
  defaults: { timeoutMs: 1_000, priority: 5, maxAttempts: 3 },
  updatedAt: new Date().toISOString(),
});
const beat = (workerId: string, types: string[], stopping = false): void =>
  nc.publish(subjects.heartbeat, encodeJson({ workerId, at: new Date().toISOString(), tasks: [], types, slots: 2, freeSlots: 1, ...(stopping ? { stopping } : {}) } satisfies Heartbeat));

describe('TypeCatalog', () => {
  it('follows registered types and their liveness from heartbeats, and tells listeners', async () => {
    const kv = await new Kvm(nc).open(BUCKETS.types);
    await kv.put('cat.before', JSON.stringify(info('cat.before')));
    const catalog = await TypeCatalog.open(nc, { leaseMs: 500, log });
    const changes: CatalogChange[] = [];
    catalog.onChange((c) => changes.push(c));
    expect(catalog.get('cat.before')).toMatchObject({ live: false, workers: 0, freeSlots: 0, lastSeenAt: null });
    await kv.put('cat.after', JSON.stringify(info('cat.after')));
    await waitFor(() => catalog.get('cat.after'), { what: 'the new type' });
    beat('w1', ['cat.after']);
    await waitFor(() => catalog.isLive('cat.after'), { what: 'the type to go live' });
    expect(catalog.get('cat.after')).toMatchObject({ live: true, workers: 1, freeSlots: 1 });
    // no more beats: offline after the lease, still listed
    await waitFor(() => changes.some((c) => c.type === 'cat.after' && c.kind === 'offline'), { what: 'the type to go offline' });
    expect(catalog.get('cat.after')).toMatchObject({ live: false, workers: 0 });
    expect(catalog.get('cat.after')!.lastSeenAt).not.toBeNull();
    expect(changes.filter((c) => c.type === 'cat.after').map((c) => c.kind)).toEqual(['added', 'live', 'offline']);
    expect(catalog.list().map((e) => e.info.name)).toEqual(['cat.after', 'cat.before']);
    catalog.close();
  });

  it('takes a worker away at once when it says it is stopping', async () => {
    const kv = await new Kvm(nc).open(BUCKETS.types);
    await kv.put('cat.stop', JSON.stringify(info('cat.stop')));
    const catalog = await TypeCatalog.open(nc, { leaseMs: 60_000, log });
    beat('w2', ['cat.stop']);
    await waitFor(() => catalog.isLive('cat.stop'), { what: 'live' });
    beat('w2', ['cat.stop'], true);
    await waitFor(() => !catalog.isLive('cat.stop'), { what: 'offline at once' });
    expect(await catalog.lookup('cat.none')).toBeUndefined();
    catalog.close();
  });
});
