import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, STREAMS } from '@errand/contracts';
import { startNatsServer, type NatsServer } from '@errand/testing';
import { connectNats } from './connect.ts';
import { provision } from './provision.ts';
import { JetStreamPublisher } from './publisher.ts';
import {
  ERR_WRONG_LAST_SEQUENCE,
  isConsumerNotFound,
  isKeyExists,
  isMessageNotFound,
  isNatsError,
  isNatsUnavailable,
  isNoResponders,
  isStreamNotFound,
  isTimeout,
  isWrongLastSequence,
  jetStreamCode,
} from './errors.ts';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'errors-test' });
  await provision(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (err: unknown) => err);
const data = new TextEncoder().encode('{}');

// each helper is checked against the error a real server and the real client give, never a hand-made one
describe('typed NATS errors', () => {
  it('detects a wrong last sequence (10071) by code, from js.publish and from our publisher', async () => {
    const subject = 'errand.events.errs.t1';
    await jetstream(nc).publish(subject, data);
    const fromClient = await caught(jetstream(nc).publish(subject, data, { expect: { lastSubjectSequence: 0 } }));
    expect(jetStreamCode(fromClient)).toBe(ERR_WRONG_LAST_SEQUENCE);
    expect(isWrongLastSequence(fromClient)).toBe(true);
    expect(isNatsUnavailable(fromClient)).toBe(false);
    expect(isNatsError(fromClient)).toBe(true);

    const pub = new JetStreamPublisher(nc);
    try {
      const fromOurs = await caught(pub.publish(subject, data, { expectLastSubjectSeq: 0 }));
      expect(jetStreamCode(fromOurs)).toBe(10071);
      expect(isWrongLastSequence(fromOurs)).toBe(true);
    } finally {
      pub.close();
    }
  });

  it('detects a KV create of an existing key, and a stale update', async () => {
    const kv = await new Kvm(nc).open(BUCKETS.idempotency);
    const rev = await kv.create('errs.k1', 'a');
    expect(isKeyExists(await caught(kv.create('errs.k1', 'b')))).toBe(true);
    await kv.update('errs.k1', 'c', rev);
    expect(isKeyExists(await caught(kv.update('errs.k1', 'd', rev)))).toBe(true);
  });

  it('detects a missing stream, consumer and message', async () => {
    const jsm = await jetstreamManager(nc);
    const noStream = await caught(jsm.streams.info('ERRAND_NO_SUCH_STREAM'));
    expect(isStreamNotFound(noStream)).toBe(true);
    expect(isConsumerNotFound(noStream)).toBe(false);
    expect(isConsumerNotFound(await caught(jsm.consumers.info(STREAMS.events, 'no-such-consumer')))).toBe(true);
    // the client answers a missing message with null (isMessageNotFound guards the older error form)
    expect(await jsm.streams.getMessage(STREAMS.events, { seq: 999_999 })).toBeNull();
    expect(isMessageNotFound(noStream)).toBe(false);
    expect(isStreamNotFound(new Error('stream not found'))).toBe(false);
  });

  it('tells trouble reaching NATS apart: no responders, timeouts, a closed connection', async () => {
    const noOne = await caught(nc.request('errand.errs.nobody', data, { timeout: 1_000 }));
    expect(isNoResponders(noOne)).toBe(true);
    expect(isNatsUnavailable(noOne)).toBe(true);
    expect(isTimeout(noOne)).toBe(false);

    const sub = nc.subscribe('errand.errs.silent');
    const late = await caught(nc.request('errand.errs.silent', data, { timeout: 50 }));
    sub.unsubscribe();
    expect(isTimeout(late)).toBe(true);
    expect(isNatsUnavailable(late)).toBe(true);

    const other = await connect({ servers: server.url });
    await other.close();
    const closed = await caught(other.request('errand.errs.nobody', data));
    expect(isNatsUnavailable(closed)).toBe(true);
    expect(isNatsUnavailable(new Error('timeout'))).toBe(false);
  });
});
