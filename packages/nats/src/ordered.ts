import { createInbox, nuid, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { parseAckReply, type AckPosition } from './ackreply.ts';

/**
 * A lean ordered consumer for reading a stream from start to end at full
 * speed (a scheduler's replay): an ephemeral pull consumer (no acks) whose
 * messages come to a core subscription, pulled in batches of our own, its
 * position read from the reply subject as numbers (`parseAckReply`), no
 * `JsMsg` made.
 *
 * Guarantees (those of an ordered consumer): messages reach `onMessage` in
 * stream order, each once, none skipped. Any doubt starts a new consumer
 * from the sequence after the last one handed on, on a new inbox (so nothing
 * of the old one is read): a delivery sequence that is not the next one (a
 * gap), two heartbeat intervals of silence (its server or cluster node is
 * gone or hung, or it was deleted), a `409` status (deleted, a leadership
 * change), a reconnect (a restarted server has forgotten it). Back-pressure:
 * at most `batch` and a half are asked for ahead of what `onMessage` has
 * handled, so the connection's other replies (a lease, a ping) never wait
 * behind more than that. Each consumer left is deleted (the server would
 * keep it for minutes).
 */
export interface OrderedReadOptions {
  stream: string;
  filter: string;
  /** the first stream sequence wanted (1: the whole stream) */
  fromSeq: number;
  /**
   * One message, in stream order, each once. `at` is reused for the next
   * message: copy what is kept. Must not throw (it runs in the connection's
   * read loop).
   */
  onMessage: (m: Msg, at: Readonly<AckPosition>) => void;
  /** idle heartbeat interval (default 5 s): silence for two of them starts a new consumer */
  heartbeatMs?: number;
  /** messages per pull (default 2,000); a new pull goes out when half is left */
  batch?: number;
  /** a new consumer was started, and why */
  onReset?: (why: string) => void;
}

export interface OrderedRead {
  /** the next stream sequence this reader will hand on */
  nextSeq(): number;
  /** stop reading and delete the consumer (not awaited: a slow API must not hold up a stop) */
  stop(): void;
}

interface Generation {
  name: string;
  inbox: string;
  sub: Subscription;
  /** the last delivery sequence handed on */
  cseq: number;
  /** messages asked for and neither come nor expired */
  asked: number;
}

/**
 * Where a delivery stands for a reader that has taken deliveries up to
 * `lastDelivery` and wants stream sequence `next`: the next one to hand on,
 * one handed on already (a new consumer never sends it, but nothing is
 * handed on twice), or a gap (a delivery between was lost: start anew).
 */
export function placeDelivery(lastDelivery: number, next: number, at: Readonly<AckPosition>): 'next' | 'seen' | 'gap' {
  if (at.consumerSeq !== lastDelivery + 1) return 'gap';
  return at.streamSeq < next ? 'seen' : 'next';
}

const FIVE_MINUTES_NS = 300_000_000_000;

/** Start reading; resolves once the first consumer exists (rejects if it cannot be made). */
export async function readOrdered(nc: NatsConnection, jsm: JetStreamManager, opts: OrderedReadOptions): Promise<OrderedRead> {
  const hbMs = opts.heartbeatMs ?? 5_000;
  const batch = opts.batch ?? 2_000;
  // a pull lasts two heartbeat intervals; an expired one is replaced at once, so one always waits (and heartbeats come)
  const pullBody = new TextEncoder().encode(JSON.stringify({ batch, expires: hbMs * 2_000_000 + 1_000_000, idle_heartbeat: hbMs * 1_000_000 }));
  const prefix = `errand_ord_${nuid.next()}`;
  // the connection's own inbox prefix: a service's NATS user may subscribe only under it
  const inboxPrefix = (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
  const at: AckPosition = { streamSeq: 0, consumerSeq: 0, pending: 0 };
  let next = Math.max(1, opts.fromSeq);
  let serial = 0;
  let gen: Generation | undefined;
  let stopped = false;
  let resetting = false;
  // bumped by every message: the watchdog sees silence as no change between two looks
  let activity = 0;
  let seen = -1;
  let silent = 0;

  const handle = (g: Generation, m: Msg) => {
    // a consumer left behind (its inbox is unsubscribed, but a message may be in hand); the new one may deliver before its add returns
    if (g !== gen || stopped) return;
    activity++;
    const reply = m.reply;
    if (reply && parseAckReply(reply, at)) {
      const p = placeDelivery(g.cseq, next, at);
      if (p === 'gap') return void reset(`delivery ${at.consumerSeq} after ${g.cseq}: a gap`);
      g.cseq = at.consumerSeq;
      if (--g.asked <= batch / 2) pull(g);
      if (p === 'seen') return;
      next = at.streamSeq + 1;
      opts.onMessage(m, at);
      return;
    }
    const h = m.headers;
    if (!h) return;
    // 100: an idle heartbeat (counted as activity above)
    if (h.code === 408) {
      // a pull expired: what it did not bring is asked for again
      g.asked -= Number(h.get('Nats-Pending-Messages') || '0');
      if (g.asked <= batch / 2) pull(g);
      return;
    }
    if (h.code === 409) void reset(`the consumer ended: ${h.description}`);
  };

  const pull = (g: Generation) => {
    g.asked += batch;
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${opts.stream}.${g.name}`, pullBody, { reply: g.inbox });
  };

  const open = async () => {
    const name = `${prefix}_${++serial}`;
    const inbox = createInbox(inboxPrefix);
    const g: Generation = { name, inbox, sub: undefined as unknown as Subscription, cseq: 0, asked: 0 };
    g.sub = nc.subscribe(inbox, { callback: (err, m) => (err ? void reset(`subscription: ${err.message}`) : handle(g, m)) });
    gen = g;
    try {
      await jsm.consumers.add(opts.stream, {
        name,
        filter_subject: opts.filter,
        ...(next > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next } : { deliver_policy: DeliverPolicy.All }),
        ack_policy: AckPolicy.None,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: FIVE_MINUTES_NS,
      });
    } catch (err) {
      drop(g);
      throw err;
    }
    // stopped (or given up) while it was being made: its delete may have come before it existed
    if (gen !== g) return void jsm.consumers.delete(opts.stream, name).catch(() => undefined);
    pull(g);
  };

  const drop = (g: Generation | undefined) => {
    if (!g) return;
    if (gen === g) gen = undefined;
    g.sub.unsubscribe();
    void jsm.consumers.delete(opts.stream, g.name).catch(() => undefined);
  };

  const reset = async (why: string) => {
    if (resetting || stopped) return;
    resetting = true;
    drop(gen);
    opts.onReset?.(why);
    for (let delay = 100; !stopped; delay = Math.min(delay * 2, 2_000)) {
      try {
        await open();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    silent = 0;
    resetting = false;
    if (stopped) drop(gen);
  };

  await open();
  const watchdog = setInterval(() => {
    if (resetting) return;
    silent = activity === seen ? silent + 1 : 0;
    seen = activity;
    if (silent >= 2) void reset('no heartbeats');
  }, hbMs);
  watchdog.unref();
  void (async () => {
    for await (const s of nc.status()) {
      if (stopped) break;
      if (s.type === 'reconnect') void reset('reconnected');
    }
  })().catch(() => undefined);

  return {
    nextSeq: () => next,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(watchdog);
      drop(gen);
    },
  };
}
