import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { STREAMS, makeEvent } from '@errand/contracts';
import { connectNats } from './connect.ts';
import { provision } from './provision.ts';
import { EventLog, type StoredEvent } from './eventlog.ts';
import { isWrongLastSequence } from './errors.ts';

let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'test' });
  await provision(nc);
  log = new EventLog(nc);
});
afterAll(async () => {
  log?.close();
  await nc?.close();
  await server?.stop();
});

const task = (taskId: string) => ({ taskId, tenant: 't1' });
const submitted = (taskId: string) =>
  makeEvent('submitted', task(taskId), new Date(), {
    user: 'u1',
    taskType: 'demo.sleep',
    params: { durationMs: 10 },
    priority: 5,
    timeoutMs: 1000,
    progressEveryMs: 1000,
    deliver: [],
  });

describe('EventLog', () => {
  it('stores a retried append once (msgID de-duplication)', async () => {
    const e = submitted('dup1');
    const a = await log.append(e);
    const b = await log.append(e);
    expect(b.duplicate).toBe(true);
    expect(b.seq).toBe(a.seq);
    expect(await log.history('t1', 'dup1')).toHaveLength(1);
  });

  it('refuses a stale write with the expected-last-sequence check', async () => {
    const s = await log.append(submitted('occ1'));
    const q = makeEvent('queued', task('occ1'), new Date(), { position: 0 });
    await log.append(q, { expectLastSeq: s.seq });
    const r = makeEvent('rejected', task('occ1'), new Date(), { code: 'invalid', message: 'x' });
    const err = await log.append(r, { expectLastSeq: s.seq }).catch((e: unknown) => e);
    expect(isWrongLastSequence(err)).toBe(true);
  });

  it('reads a task history in order, after a sequence, and its first event', async () => {
    const s = await log.append(submitted('h1'));
    await log.append(makeEvent('queued', task('h1'), new Date(), { position: 3 }));
    await log.append(makeEvent('dispatched', task('h1'), new Date(), { attempt: 1, pool: 'default' }));
    const all = await log.history('t1', 'h1');
    expect(all.map((x) => x.event.type)).toEqual(['submitted', 'queued', 'dispatched']);
    const after = await log.history('t1', 'h1', s.seq);
    expect(after.map((x) => x.event.type)).toEqual(['queued', 'dispatched']);
    expect((await log.first('t1', 'h1'))?.event.type).toBe('submitted');
    expect(await log.lastSeq('t1', 'nope')).toBe(0);
  });

  it('skips an invalid event on read instead of crashing', async () => {
    const bad: string[] = [];
    const log2 = new EventLog(nc, (i) => bad.push(i.error));
    nc.publish('errand.events.t1.bad1', new TextEncoder().encode('{"type":"queued"}'));
    await log2.append(submitted('bad1'));
    const h = await log2.history('t1', 'bad1');
    expect(h.map((x) => x.event.type)).toEqual(['submitted']);
    expect(bad.length).toBeGreaterThan(0);
    log2.close();
  });

  it('follows the log and reports catching up', async () => {
    const seen: StoredEvent[] = [];
    let caught = false;
    const f = await log.follow({ onEvent: (e) => seen.push(e), onCaughtUp: () => (caught = true) });
    await log.append(submitted('f1'));
    const deadline = Date.now() + 5000;
    while (!seen.some((e) => e.event.taskId === 'f1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(caught).toBe(true);
    expect(seen.some((e) => e.event.taskId === 'f1')).toBe(true);
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    await f.stop();
  });

  it('follows in batches of at most maxBatch, holding no more than two batches while one is written', async () => {
    const from = (await log.logLastSeq()) + 1;
    const appended = await Promise.all(Array.from({ length: 1_000 }, (_, i) => log.append(submitted(`b${i}`))));
    const last = Math.max(...appended.map((a) => a.seq));
    const batches: number[][] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const ended: unknown[] = [];
    const f = await log.followBatches({
      fromSeq: from,
      maxBatch: 100,
      onBatch: async (items) => {
        batches.push(items.map((i) => i.seq));
        if (batches.length === 1) await held; // the first batch is being written: the follower must wait
      },
      onEnd: (why) => void ended.push(why),
    });
    try {
      await waitFor(() => batches.length === 1 && f.lastSeq() - from + 1 >= 300, { what: 'the follower to fill its buffer' });
      // what it has read and not yet handed on stays bounded: the batch being written and one more
      await new Promise((r) => setImmediate(r));
      expect(f.lastSeq() - from + 1).toBeLessThanOrEqual(300);
      release();
      await waitFor(() => batches.flat().at(-1) === last, { what: 'every appended event to reach a batch' });
      const seqs = batches.flat();
      expect(seqs).toEqual(Array.from({ length: last - from + 1 }, (_, i) => from + i));
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(100);
      expect(ended).toEqual([]);
    } finally {
      release();
      await f.stop();
    }
  });

  it('reads a task history then its live events, and removes the consumer when the reader stops', async () => {
    const jsm = await jetstreamManager(nc);
    const consumers = async () => (await jsm.streams.info(STREAMS.events)).state.consumer_count;
    const before = await consumers();
    const s = await log.append(submitted('live1'));
    const reader = log.taskEvents('t1', 'live1', { afterSeq: 0 });
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of reader) {
        seen.push(e.event.type);
        if (e.event.type === 'dispatched') break;
      }
    })();
    await waitFor(() => seen.length === 1, { what: 'the history' });
    await log.append(makeEvent('queued', task('live1'), new Date(), { position: 0 }), { expectLastSeq: s.seq });
    await log.append(makeEvent('dispatched', task('live1'), new Date(), { attempt: 1, pool: 'default' }));
    await done;
    expect(seen).toEqual(['submitted', 'queued', 'dispatched']);
    await waitFor(async () => (await consumers()) === before, { what: 'the reader\'s consumer removed' });
  });

  it('stops at untilSeq, and close() ends a reader waiting for live events', async () => {
    await log.append(submitted('until1'));
    const last = (await log.append(makeEvent('queued', task('until1'), new Date(), { position: 0 }))).seq;
    const upTo: string[] = [];
    for await (const e of log.taskEvents('t1', 'until1', { untilSeq: last })) upTo.push(e.event.type);
    expect(upTo).toEqual(['submitted', 'queued']);

    const jsm = await jetstreamManager(nc);
    const consumers = async () => (await jsm.streams.info(STREAMS.events)).state.consumer_count;
    const before = await consumers();
    const log2 = new EventLog(nc);
    const waiting = log2.taskEvents('t1', 'until1', { afterSeq: last });
    const ended = (async () => {
      for await (const _ of waiting) expect.unreachable('no event after the last one');
    })();
    await waitFor(async () => (await consumers()) > before, { what: 'the live reader\'s consumer' });
    log2.close();
    await ended;
    await waitFor(async () => (await consumers()) === before, { what: 'close() to remove it' });
  });
});
