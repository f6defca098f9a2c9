import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { STREAMS, subjects } from '@errand/contracts';
import { connectNats } from './connect.ts';
import { provision } from './provision.ts';
import { readOrdered, type OrderedRead } from './ordered.ts';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'test-ordered' });
  await provision(nc);
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** Append `n` messages to the log (not events: the reader does not decode); returns the last sequence. */
async function write(n: number): Promise<number> {
  const js = jetstream(nc);
  let last = 0;
  const acks = [];
  for (let i = 0; i < n; i++) acks.push(js.publish(subjects.event('t1', `o${i % 7}`), new TextEncoder().encode(`{"i":${i}}`)));
  for (const a of acks) last = Math.max(last, (await a).seq);
  return last;
}

async function consumers(): Promise<ConsumerInfo[]> {
  const out: ConsumerInfo[] = [];
  for await (const c of jsm.consumers.list(STREAMS.events)) out.push(c);
  return out;
}

/** A reader that records the sequences it is handed, and why it started anew. */
async function reader(fromSeq: number, heartbeatMs?: number): Promise<{ seqs: number[]; resets: string[]; r: OrderedRead }> {
  const seqs: number[] = [];
  const resets: string[] = [];
  const r = await readOrdered(nc, jsm, {
    stream: STREAMS.events,
    filter: subjects.allEvents,
    fromSeq,
    ...(heartbeatMs ? { heartbeatMs } : {}),
    onMessage: (_m, at) => void seqs.push(at.streamSeq),
    onReset: (why) => void resets.push(why),
  });
  return { seqs, resets, r };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('readOrdered', () => {
  it('hands on every message from a sequence in order, live ones too, and stop removes its consumer', async () => {
    const last = await write(300);
    const before = (await consumers()).length;
    const { seqs, resets, r } = await reader(101);
    await waitFor(() => seqs.at(-1) === last, { what: 'the history' });
    const more = await write(50);
    await waitFor(() => seqs.at(-1) === more, { what: 'the live messages' });
    expect(seqs).toEqual(range(101, more));
    expect(r.nextSeq()).toBe(more + 1);
    expect(resets).toEqual([]);
    expect((await consumers()).length).toBe(before + 1);
    r.stop();
    await waitFor(async () => (await consumers()).length === before, { what: 'the consumer removed' });
  });

  it('a delivery lost on the way starts a new consumer from the last message handed on: no gap, no duplicate', async () => {
    const first = (await write(1)) + 1;
    const last = await write(100);
    // the real connection, with the 40th message of the first consumer lost between the server and the reader
    let dataSeen = 0;
    const lossy = new Proxy(nc, {
      get(target, prop, receiver) {
        if (prop !== 'subscribe') return Reflect.get(target, prop, receiver) as unknown;
        return (subject: string, o: { callback: (err: Error | null, m: Msg) => void }) =>
          target.subscribe(subject, {
            ...o,
            callback: (err, m) => {
              if (m.reply?.startsWith('$JS.ACK.') && ++dataSeen === 40) return;
              o.callback(err, m);
            },
          });
      },
    });
    const seqs: number[] = [];
    const resets: string[] = [];
    const r = await readOrdered(lossy, jsm, {
      stream: STREAMS.events,
      filter: subjects.allEvents,
      fromSeq: first,
      onMessage: (_m, at) => void seqs.push(at.streamSeq),
      onReset: (why) => void resets.push(why),
    });
    await waitFor(() => seqs.at(-1) === last, { what: 'every message' });
    expect(resets).toHaveLength(1);
    expect(resets[0]).toMatch(/gap/);
    expect(seqs).toEqual(range(first, last));
    r.stop();
    await waitFor(async () => !(await consumers()).some((x) => x.name.startsWith('errand_ord_')), { what: 'both consumers removed' });
  });

  it('a consumer deleted under the reader is replaced from where the reader was', async () => {
    const first = await write(10);
    const { seqs, resets, r } = await reader(first - 9, 200);
    await waitFor(() => seqs.at(-1) === first, { what: 'the first messages' });
    const [c] = (await consumers()).filter((x) => x.name.startsWith('errand_ord_'));
    await jsm.consumers.delete(STREAMS.events, c!.name);
    await waitFor(() => resets.length > 0, { what: 'the reset' });
    const last = await write(10);
    await waitFor(() => seqs.at(-1) === last, { what: 'the messages after the reset' });
    expect(seqs).toEqual(range(first - 9, last));
    r.stop();
    await waitFor(async () => !(await consumers()).some((x) => x.name.startsWith('errand_ord_')), { what: 'the consumer removed' });
  });

  it('a consumer gone silent (a hung node: no messages, no heartbeats) is replaced after two heartbeat intervals', async () => {
    const first = (await write(1)) + 1;
    const last = await write(20);
    // the real connection; the first consumer's inbox hears nothing more after its 5th message
    let subs = 0;
    const hung = new Proxy(nc, {
      get(target, prop, receiver) {
        if (prop !== 'subscribe') return Reflect.get(target, prop, receiver) as unknown;
        return (subject: string, o: { callback: (err: Error | null, m: Msg) => void }) => {
          const mine = ++subs;
          let data = 0;
          return target.subscribe(subject, {
            ...o,
            callback: (err, m) => {
              if (mine === 1 && (!m.reply?.startsWith('$JS.ACK.') || ++data > 5)) return;
              o.callback(err, m);
            },
          });
        };
      },
    });
    const seqs: number[] = [];
    const resets: string[] = [];
    const r = await readOrdered(hung, jsm, {
      stream: STREAMS.events,
      filter: subjects.allEvents,
      fromSeq: first,
      heartbeatMs: 200,
      onMessage: (_m, at) => void seqs.push(at.streamSeq),
      onReset: (why) => void resets.push(why),
    });
    await waitFor(() => seqs.at(-1) === last, { what: 'every message' });
    expect(resets).toEqual(['no heartbeats']);
    expect(seqs).toEqual(range(first, last));
    r.stop();
    await waitFor(async () => !(await consumers()).some((x) => x.name.startsWith('errand_ord_')), { what: 'both consumers removed' });
  });

  it('keeps the order across a server restart in the middle of a replay', async () => {
    const start = (await write(1)) + 1;
    const last = await write(3_000);
    let restarted: Promise<void> | undefined;
    const seqs: number[] = [];
    const resets: string[] = [];
    const r = await readOrdered(nc, jsm, {
      stream: STREAMS.events,
      filter: subjects.allEvents,
      fromSeq: start,
      onMessage: (_m, at) => {
        seqs.push(at.streamSeq);
        if (seqs.length === 500) restarted = server.kill().then(() => server.restart());
      },
      onReset: (why) => void resets.push(why),
    });
    await waitFor(() => restarted !== undefined, { what: 'the restart to begin' });
    await restarted;
    await waitFor(() => seqs.at(-1) === last, { timeoutMs: 30_000, what: 'the whole log after the restart' });
    const more = await write(10);
    await waitFor(() => seqs.at(-1) === more, { what: 'live messages after the restart' });
    expect(seqs).toEqual(range(start, more));
    expect(resets.length).toBeGreaterThan(0);
    r.stop();
    await waitFor(async () => !(await consumers()).some((x) => x.name.startsWith('errand_ord_')), { what: 'the consumer removed' });
  });
});
