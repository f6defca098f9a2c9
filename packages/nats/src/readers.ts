import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { STREAMS, subjects, type ErrandEvent } from '@errand/contracts';
import { observeGauge } from '@errand/telemetry';
import { readOrdered } from './ordered.ts';

/**
 * Reading the log with ordered consumers, for `EventLog`: one task's events
 * (`readTaskEvents`) and the whole log (`followLog`). Every consumer made here
 * is registered in `open` and deleted when its reader is done.
 */

/** An event read from the log with its stream sequence. */
export interface StoredEvent {
  seq: number;
  event: ErrandEvent;
  headers?: MsgHdrs;
}

/** One task's events, in order; iterate it once. `close()` ends the iteration and removes its consumer. */
export interface TaskEvents extends AsyncIterable<StoredEvent> {
  close(): Promise<void>;
}

/** What `follow` hands back: its position, and a stop that removes its consumer. */
export interface Following {
  stop(): Promise<void>;
  lastSeq(): number;
  /** events in the log this follower has not read yet, as the server last counted */
  lag(): number;
}

/** What to follow, and where each event goes. */
export interface FollowOptions {
  fromSeq?: number;
  filter?: string;
  onEvent: (e: StoredEvent) => void;
  onCaughtUp?: () => void;
  /** names the follower in the `errand.consumer.lag` metric */
  name?: string;
}

/** What the readers need of the event log: its handles stay inside the package. */
export interface LogCore {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm(): Promise<JetStreamManager>;
  decode(m: { seq: number; subject: string; data: Uint8Array; readonly headers?: MsgHdrs | undefined }): StoredEvent | undefined;
  /** `decode` of a message whose stream sequence the reader knows */
  decodeAt(seq: number, m: { subject: string; data: Uint8Array; readonly headers?: MsgHdrs | undefined }): StoredEvent | undefined;
  /** the stop of every consumer open now */
  open: Set<() => Promise<void>>;
}

/**
 * One task's events after `afterSeq`: its history, then live events as they
 * are written, until `untilSeq` is passed (when given), the reader stops
 * iterating, or `close()`. One ordered consumer, created on the first read
 * and removed when the iteration ends however it ends.
 */
export function readTaskEvents(log: LogCore, tenant: string, taskId: string, opts: { afterSeq?: number; untilSeq?: number } = {}): TaskEvents {
  const afterSeq = opts.afterSeq ?? 0;
  let closed = false;
  let stopIter: () => Promise<void> = async () => undefined;
  let remove: () => Promise<void> = async () => undefined;
  // also when the reader has left the loop without ending it: the consumer goes either way
  const close = async () => {
    closed = true;
    log.open.delete(close);
    await stopIter();
    await remove();
  };
  const read = (async function* (): AsyncGenerator<StoredEvent> {
    if (closed) return;
    log.open.add(close);
    try {
      const c = await log.js.consumers.get(STREAMS.events, {
        filter_subjects: subjects.event(tenant, taskId),
        ...(afterSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 } : { deliver_policy: DeliverPolicy.All }),
      });
      let removed: Promise<unknown> | undefined;
      remove = async () => void (await (removed ??= c.delete().catch(() => undefined)));
      const iter = await c.consume({ max_messages: 256 });
      stopIter = async () => void (await iter.close().catch(() => undefined));
      if (closed) return;
      for await (const m of iter) {
        const e = log.decode(m);
        if (e) yield e;
        if (opts.untilSeq !== undefined && m.seq >= opts.untilSeq) return;
      }
    } finally {
      await close();
    }
  })();
  return { [Symbol.asyncIterator]: () => read, close };
}

/**
 * Follow the whole log (or a filter) from `fromSeq`, calling `onEvent` in
 * order, each event once, none skipped: a lean ordered consumer
 * (`readOrdered`) that starts anew from the last applied sequence on a gap,
 * on missed heartbeats (a cluster node's death), on a reconnect (a restarted
 * server forgets its ephemeral consumers). `onCaughtUp` fires once, when the
 * log's last sequence at the start has been passed.
 */
export async function followLog(log: LogCore, opts: FollowOptions): Promise<Following> {
  const jsm = await log.jsm();
  const info = await jsm.streams.info(STREAMS.events);
  const target = info.state.last_seq;
  let applied = (opts.fromSeq ?? 1) - 1;
  // messages after the last one read, as the server counted when it sent it: the lag behind the log
  let pending = Math.max(0, target - applied);
  const unobserve = observeGauge('errand.consumer.lag', 'Events in the log this follower has not read yet', '{event}', () => pending, {
    consumer: opts.name ?? 'event-log',
  });
  let caughtUp = false;
  const markCaughtUp = () => {
    if (!caughtUp && applied >= target) {
      caughtUp = true;
      opts.onCaughtUp?.();
    }
  };
  markCaughtUp();
  const reader = await readOrdered(log.nc, jsm, {
    stream: STREAMS.events,
    filter: opts.filter ?? subjects.allEvents,
    fromSeq: applied + 1,
    // heartbeats every 5 s: a stalled consumer is noticed within about 10 s
    heartbeatMs: 5_000,
    onMessage: (m, at) => {
      applied = at.streamSeq;
      pending = at.pending;
      const e = log.decodeAt(at.streamSeq, m);
      if (e) opts.onEvent(e);
      markCaughtUp();
    },
  });
  const stop = async () => {
    unobserve();
    log.open.delete(stop);
    reader.stop();
  };
  log.open.add(stop);
  return { lastSeq: () => applied, lag: () => pending, stop };
}

/** Call `onStall` when the consumer's heartbeats stop coming (its node is gone or hung). */
async function watchStalls(iter: unknown, onStall: () => void): Promise<void> {
  const status = (iter as { status?: () => AsyncIterable<{ type: string }> }).status?.();
  if (!status) return;
  try {
    for await (const s of status) {
      if (s.type === 'heartbeats_missed') {
        onStall();
        return;
      }
    }
  } catch {
    // the consumer was closed
  }
}

/** One message of the log as a batch follower hands it on: undefined `event` = not a valid event (skipped; its sequence still counts). */
export interface LogBatchItem {
  seq: number;
  event: ErrandEvent | undefined;
}

export interface BatchFollowOptions {
  /** the first sequence to read */
  fromSeq: number;
  /** at most this many items per batch (default 1,000) */
  maxBatch?: number;
  /** one batch, ascending; `lag` = messages after the last one, as the server last counted. The next batch waits for it. */
  onBatch: (items: LogBatchItem[], lag: number) => Promise<void>;
  /** the follower stopped on its own: `onBatch` threw, or the consumer stalled or the connection came back. Start anew from your own position. */
  onEnd: (why: unknown) => void;
  /** names the follower in the `errand.consumer.lag` metric */
  name?: string;
}

/**
 * The whole log in batches, with back-pressure: an ordered consumer read as
 * an iterator, so the server sends no more than the reader takes. What has
 * come in while a batch is handled is the next batch (up to `maxBatch`): a
 * busy log makes big batches, a quiet one batches of one, at once. There is
 * one way back from anything going wrong: the follower ends (`onEnd`) and
 * its owner starts a new one from the position it has made durable.
 */
export async function followLogBatches(log: LogCore, opts: BatchFollowOptions): Promise<Following> {
  const maxBatch = opts.maxBatch ?? 1_000;
  // one batch being written and the next one filling: what a reader holds, at most
  const high = maxBatch * 2;
  let read = opts.fromSeq - 1;
  let pending = 0;
  let stopped = false;
  const unobserve = observeGauge('errand.consumer.lag', 'Events in the log this follower has not read yet', '{event}', () => pending, {
    consumer: opts.name ?? 'event-log-batches',
  });
  const c = await log.js.consumers.get(STREAMS.events, {
    filter_subjects: subjects.allEvents,
    ...(read > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: read + 1 } : { deliver_policy: DeliverPolicy.All }),
  });
  const iter = await c.consume({ max_messages: Math.min(maxBatch, 10_000), expires: 10_000 });
  let buf: LogBatchItem[] = [];
  let flushing: Promise<void> | undefined;
  let kicked = false;
  let ended = false;
  const end = (why: unknown) => {
    if (ended) return;
    ended = true;
    void stop().then(() => opts.onEnd(why));
  };
  const flush = async () => {
    while (buf.length && !stopped) {
      const items = buf.length <= maxBatch ? buf : buf.slice(0, maxBatch);
      buf = buf.length <= maxBatch ? [] : buf.slice(maxBatch);
      await opts.onBatch(items, pending + buf.length);
    }
  };
  const kick = () => {
    kicked = false;
    if (flushing || stopped) return;
    flushing = flush()
      .catch((err: unknown) => end(err))
      .finally(() => {
        flushing = undefined;
      });
  };
  void (async () => {
    try {
      for await (const m of iter) {
        if (stopped) break;
        if (m.seq <= read) continue;
        read = m.seq;
        pending = m.info.pending;
        buf.push({ seq: m.seq, event: log.decode(m)?.event });
        if (!kicked && !flushing) {
          kicked = true;
          setImmediate(kick);
        }
        // back-pressure: leave the rest on the server until this batch is written
        while (buf.length >= high && !stopped) {
          if (!flushing) kick();
          await flushing;
        }
        if (!flushing && buf.length && !kicked) {
          kicked = true;
          setImmediate(kick);
        }
      }
      if (!stopped) end(new Error('the log consumer ended'));
    } catch (err) {
      end(err);
    }
  })();
  void watchStalls(iter, () => end(new Error('the log consumer stalled (no heartbeats)')));
  void (async () => {
    for await (const s of log.nc.status()) {
      if (stopped) break;
      if (s.type === 'reconnect') {
        end(new Error('reconnected to NATS'));
        break;
      }
    }
  })();
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unobserve();
    log.open.delete(stop);
    await iter.close().catch(() => undefined);
    await flushing?.catch(() => undefined);
    void c.delete().catch(() => undefined);
  };
  log.open.add(stop);
  return { lastSeq: () => read, lag: () => pending + buf.length, stop };
}
