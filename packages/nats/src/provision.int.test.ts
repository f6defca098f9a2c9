import { afterEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { BUCKETS, STREAMS } from '@errand/contracts';
import { startNatsServer, type NatsServer } from '@errand/testing';
import { connectNats } from './connect.ts';
import { isCreateRace } from './errors.ts';
import { patiently, provision } from './provision.ts';

let server: NatsServer | undefined;
const conns: NatsConnection[] = [];

afterEach(async () => {
  for (const nc of conns.splice(0)) await nc.close();
  await server?.stop();
  server = undefined;
});

async function connections(n: number): Promise<NatsConnection[]> {
  server = await startNatsServer();
  for (let i = 0; i < n; i++) conns.push(await connectNats({ url: server.url, name: `provision-${i}` }));
  return conns;
}

describe('provision', () => {
  it('lets services that start together on a fresh server all provision (the bucket creates race)', async () => {
    const ncs = await connections(8);
    // several rounds: one round does not always interleave the look and the add
    for (let round = 0; round < 5; round++) {
      const jsm = await jetstreamManager(ncs[0]!);
      for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
      const results = await Promise.allSettled(ncs.map((nc) => provision(nc)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      const names: string[] = [];
      for await (const name of jsm.streams.names()) names.push(name);
      expect(names).toEqual(expect.arrayContaining([STREAMS.events, STREAMS.work, STREAMS.notify, `KV_${BUCKETS.types}`, `OBJ_${BUCKETS.snapshots}`]));
    }
  });

  it('tries again a create refused because the same stream appeared meanwhile, a few times only', async () => {
    const [nc] = await connections(1);
    const jsm = await jetstreamManager(nc!);
    // the refusal a racing create gets from the server: the name is taken by the same stream, made otherwise
    await jsm.streams.add({ name: 'KV_raced', subjects: ['$KV.raced.>'], max_msgs_per_subject: 1 });
    const refused = await jsm.streams.add({ name: 'KV_raced', subjects: ['$KV.raced.>'], max_msgs_per_subject: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCreateRace(refused)).toBe(true);
    let calls = 0;
    const lostOnce = () => (++calls === 1 ? Promise.reject(refused) : Promise.resolve('found it'));
    await expect(patiently(lostOnce)).resolves.toBe('found it');
    expect(calls).toBe(2);
    calls = 0;
    const alwaysRefused = () => (++calls, Promise.reject(refused));
    await expect(patiently(alwaysRefused)).rejects.toBe(refused);
    expect(calls).toBe(4);
  });

  it('says soon that another stream holds a bucket’s subjects', async () => {
    const [nc] = await connections(1);
    const jsm = await jetstreamManager(nc!);
    await jsm.streams.add({ name: 'SOMEONE_ELSES', subjects: [`$KV.${BUCKETS.types}.>`] });
    const err = await provision(nc!).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCreateRace(err)).toBe(true);
    expect((err as Error).message).toMatch(/overlap/);
  });
});
