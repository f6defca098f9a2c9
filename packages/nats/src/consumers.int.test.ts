import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, JetStreamApiCodes, jetstreamManager, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServer } from '@errand/testing';
import { connectNats } from './connect.ts';
import { ensureConsumer, ensureStream, isJetStreamCode } from './consumers.ts';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'consumers-test' });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe('ensureStream / ensureConsumer', () => {
  it('creates a stream once, keeps it, and updates only what may change', async () => {
    const cfg = { name: 'T_WORK', subjects: ['t.work.>'], retention: RetentionPolicy.Workqueue, duplicate_window: nanos(60_000) };
    const [a, b] = await Promise.all([ensureStream(jsm, cfg), ensureStream(jsm, cfg)]);
    expect(a.config.name).toBe('T_WORK');
    expect(b.config.retention).toBe(RetentionPolicy.Workqueue);
    const c = await ensureStream(jsm, { ...cfg, duplicate_window: nanos(30_000) });
    expect(c.config.duplicate_window).toBe(nanos(30_000));
  });

  it('creates a consumer (several racing), keeps it, and updates the settings named', async () => {
    const want = { durable_name: 't-a', filter_subject: 't.work.a', ack_policy: AckPolicy.Explicit, ack_wait: nanos(30_000), max_ack_pending: 100 };
    const all = await Promise.all([1, 2, 3].map(() => ensureConsumer(jsm, 'T_WORK', want)));
    for (const info of all) expect(info.config.filter_subject).toBe('t.work.a');
    // not named in `update`: left as it is
    expect((await ensureConsumer(jsm, 'T_WORK', { ...want, max_ack_pending: 5 })).config.max_ack_pending).toBe(100);
    const updated = await ensureConsumer(jsm, 'T_WORK', { ...want, max_ack_pending: 5, ack_wait: nanos(10_000) }, { update: ['max_ack_pending', 'ack_wait'] });
    expect(updated.config).toMatchObject({ max_ack_pending: 5, ack_wait: nanos(10_000) });
  });

  it('matches JetStream errors by their code', async () => {
    const err = await jsm.consumers.info('T_WORK', 'no-such').catch((e: unknown) => e);
    expect(isJetStreamCode(err, JetStreamApiCodes.ConsumerNotFound)).toBe(true);
    expect(isJetStreamCode(err, JetStreamApiCodes.StreamNotFound)).toBe(false);
    expect(isJetStreamCode(new Error('consumer not found'), JetStreamApiCodes.ConsumerNotFound)).toBe(false);
  });
});
