import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { KvLease, type LeaseLogger } from './lease.ts';

let server: NatsServer;
let nc: NatsConnection;
let bucket = 0;
const quiet: LeaseLogger = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** A fresh bucket whose max age (the lease length) is long: only a release hands the lease over quickly. */
const freshKv = async (ttl = 60_000): Promise<KV> => new Kvm(nc).create(`lease_test_${++bucket}`, { ttl });

function holder(kv: KV, name: string, renewMs = 100) {
  const changes: boolean[] = [];
  const lease = new KvLease({ kv, key: 'k', holder: name, renewMs, log: quiet, onChange: (h) => void changes.push(h) });
  return { lease, changes };
}

describe('KvLease', () => {
  it('given two holders, when both start, then exactly one holds the lease and the other stands by', async () => {
    const kv = await freshKv();
    const a = holder(kv, 'a');
    const b = holder(kv, 'b');
    await Promise.all([a.lease.start(), b.lease.start()]);
    expect([a.lease.held, b.lease.held].filter(Boolean)).toHaveLength(1);
    const winner = a.lease.held ? a : b;
    // renewals keep it: several ticks later still one holder, the same
    const rev = winner.lease.revision;
    await waitFor(() => winner.lease.revision > rev + 2, { what: 'renewals' });
    expect(a.lease.held !== b.lease.held).toBe(true);
    expect(winner.changes).toEqual([true]);
    await a.lease.stop();
    await b.lease.stop();
  });

  it('given the holder releases, then the standby takes over on its next tick, long before the key would expire', async () => {
    const kv = await freshKv(60_000);
    const a = holder(kv, 'a');
    await a.lease.start();
    const b = holder(kv, 'b');
    await b.lease.start();
    expect(a.lease.held).toBe(true);
    expect(b.lease.held).toBe(false);
    const t0 = Date.now();
    await a.lease.stop();
    await waitFor(() => b.lease.held, { what: 'the standby to take the lease' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(a.changes).toEqual([true, false]);
    expect(b.changes).toEqual([true]);
    await b.lease.stop();
  });

  it('given a slow server, then ticks never overlap, and a lost revision means a lost lease', async () => {
    const real = await freshKv();
    let inFlight = 0;
    let most = 0;
    let updates = 0;
    // the real bucket, with every update held back far longer than the renew period
    const slow = new Proxy(real, {
      get(target, prop, recv) {
        if (prop !== 'update') return Reflect.get(target, prop, recv) as unknown;
        return async (k: string, v: string, rev: number) => {
          inFlight++;
          most = Math.max(most, inFlight);
          try {
            await new Promise((r) => setTimeout(r, 150));
            updates++;
            return await target.update(k, v, rev);
          } finally {
            inFlight--;
          }
        };
      },
    });
    const a = holder(slow, 'a', 20);
    await a.lease.start();
    await waitFor(() => updates >= 5, { what: 'five slow renewals' });
    expect(most).toBe(1);
    expect(a.lease.held).toBe(true);
    // someone else writes the key: our revision is stale, the next renewal loses the lease
    await real.put('k', 'intruder');
    await waitFor(() => !a.lease.held, { what: 'the lease to be lost' });
    expect(a.changes).toEqual([true, false]);
    await a.lease.stop();
  });

  it('given a holder that stops without releasing (a crash), then the standby waits for the key to expire', async () => {
    const kv = await freshKv(1_000);
    const a = holder(kv, 'a');
    await a.lease.start();
    const b = holder(kv, 'b');
    await b.lease.start();
    await a.lease.stop({ release: false });
    expect(b.lease.held).toBe(false);
    await waitFor(() => b.lease.held, { what: 'the key to expire and the standby to take it' });
    await b.lease.stop();
  });
});
