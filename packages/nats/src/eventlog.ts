import { observeGauge } from '@errand/telemetry';
import { headers as makeHeaders, type NatsConnection, type MsgHdrs } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import {
  STREAMS,
  subjects,
  decodeEvent,
  encodeEvent,
  eventMsgId,
  type ErrandEvent,
} from '@errand/contracts';
import { injectTrace, type Context } from '@errand/telemetry';
import { JetStreamPublisher, publishWithRetry, type PubAck } from './publisher.ts';

/** An event read from the log with its stream sequence. */
export interface StoredEvent {
  seq: number;
  event: ErrandEvent;
  headers?: MsgHdrs;
}

export interface AppendOptions {
  /** the optimistic concurrency check: the task's last event must have this sequence */
  expectLastSeq?: number;
  /** extra part of the msgID for events that legitimately repeat */
  idExtra?: string | number;
  /** explicit msgID (overrides the derived one) */
  msgID?: string;
  trace?: Context;
  /** publish retries on timeouts (default 8) */
  attempts?: number;
}

export type BadEventLogger = (info: { seq: number; subject: string; error: string }) => void;

/**
 * The event log: append events (validated, de-duplicated by msgID, with trace
 * context), read one task's history, and follow the whole log.
 */
export class EventLog {
  readonly js: JetStreamClient;
  readonly publisher: JetStreamPublisher;
  private jsmP: Promise<JetStreamManager> | undefined;

  constructor(
    readonly nc: NatsConnection,
    private readonly onBadEvent: BadEventLogger = (i) =>
      console.error(JSON.stringify({ level: 'warn', msg: 'skipping an invalid event', ...i })),
  ) {
    this.js = jetstream(nc);
    this.publisher = new JetStreamPublisher(nc);
  }

  jsm(): Promise<JetStreamManager> {
    this.jsmP ??= jetstreamManager(this.nc);
    return this.jsmP;
  }

  /** Append one event to its task's subject. */
  async append(e: ErrandEvent, opts: AppendOptions = {}): Promise<PubAck> {
    const data = encodeEvent(e);
    const h = makeHeaders();
    injectTrace(h, opts.trace);
    const msgID = opts.msgID ?? eventMsgId(e as { type: string; taskId: string; attempt?: number }, opts.idExtra);
    return await publishWithRetry(this.publisher, subjects.event(e.tenant, e.taskId), data, {
      msgID,
      headers: h,
      ...(opts.expectLastSeq !== undefined ? { expectLastSubjectSeq: opts.expectLastSeq } : {}),
      ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
    });
  }

  /** Decode a message from the log; an invalid one is logged and skipped. */
  decode(m: { seq: number; subject: string; data: Uint8Array; readonly headers?: MsgHdrs | undefined }): StoredEvent | undefined {
    const d = decodeEvent(m.data);
    if (!d.ok) {
      this.onBadEvent({ seq: m.seq, subject: m.subject, error: d.error });
      return undefined;
    }
    // headers are parsed only when asked for: a replay reads millions of events and needs few of them
    const out: StoredEvent = { seq: m.seq, event: d.value };
    Object.defineProperty(out, 'headers', { get: () => m.headers, enumerable: true, configurable: true });
    return out;
  }

  /** Sequence of the last event on a task's subject (0 when it has none). */
  async lastSeq(tenant: string, taskId: string): Promise<number> {
    const jsm = await this.jsm();
    const m = await jsm.direct.getMessage(STREAMS.events, { last_by_subj: subjects.event(tenant, taskId) }).catch(notFound);
    return m ? m.seq : 0;
  }

  /** The task's first event (its `submitted`), by direct get. */
  async first(tenant: string, taskId: string): Promise<StoredEvent | undefined> {
    const jsm = await this.jsm();
    const m = await jsm.direct.getMessage(STREAMS.events, { seq: 1, next_by_subj: subjects.event(tenant, taskId) }).catch(notFound);
    return m ? this.decode({ seq: m.seq, subject: m.subject, data: m.data, headers: m.header }) : undefined;
  }

  /**
   * Every event of one task after `afterSeq` (default: all), read with an
   * ordered consumer up to the subject's last sequence at the time of the call.
   */
  async history(tenant: string, taskId: string, afterSeq = 0): Promise<StoredEvent[]> {
    const last = await this.lastSeq(tenant, taskId);
    if (last <= afterSeq) return [];
    const c = await this.js.consumers.get(STREAMS.events, {
      filter_subjects: subjects.event(tenant, taskId),
      ...(afterSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 }
        : { deliver_policy: DeliverPolicy.All }),
    });
    const out: StoredEvent[] = [];
    const iter = await c.consume({ max_messages: 256 });
    try {
      for await (const m of iter) {
        const e = this.decode(jsMsgParts(m));
        if (e) out.push(e);
        if (m.seq >= last) break;
      }
    } finally {
      await iter.close().catch(() => undefined);
      await c.delete().catch(() => undefined);
    }
    return out;
  }

  /**
   * Follow the whole log (or a filter) from `fromSeq` with an ordered
   * consumer, calling `onEvent` in order. Returns a stop function.
   * `onCaughtUp` fires once, when the log's last sequence at the start has been passed.
   */
  async follow(opts: {
    fromSeq?: number;
    filter?: string;
    onEvent: (e: StoredEvent) => void;
    onCaughtUp?: () => void;
    /** names the follower in the `errand.consumer.lag` metric */
    name?: string;
  }): Promise<{ stop: () => Promise<void>; lastSeq: () => number; lag: () => number }> {
    const jsm = await this.jsm();
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
    let iter: { close(): Promise<void | Error> } | undefined;
    // the server keeps an ordered consumer for minutes after its last pull: remove each one we leave
    let dispose: () => Promise<void> = async () => undefined;
    let stopped = false;
    const open = async () => {
      const c = await this.js.consumers.get(STREAMS.events, {
        filter_subjects: opts.filter ?? subjects.allEvents,
        ...(applied > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: applied + 1 } : { deliver_policy: DeliverPolicy.All }),
      });
      dispose = async () => {
        await iter?.close().catch(() => undefined);
        // not awaited: right after a reconnect the API may be slow to answer, and the new consumer must not wait
        void c.delete().catch(() => undefined);
      };
      iter = await c.consume({
        max_messages: 2_000,
        callback: (m: JsMsg) => {
          if (m.seq <= applied) return; // seen before a restart of the consumer
          applied = m.seq;
          pending = m.info.pending;
          const e = this.decode(jsMsgParts(m));
          if (e) opts.onEvent(e);
          markCaughtUp();
        },
      });
    };
    await open();
    // After a reconnect (a restarted server forgets its ephemeral consumers) the
    // ordered consumer would only notice through missed heartbeats, 30 s or more:
    // start a new one at once from the last applied sequence.
    void (async () => {
      for await (const s of this.nc.status()) {
        if (stopped) break;
        if (s.type !== 'reconnect') continue;
        await dispose();
        for (let delay = 100; !stopped; delay = Math.min(delay * 2, 2_000)) {
          try {
            await open();
            break;
          } catch {
            await new Promise((r) => setTimeout(r, delay));
          }
        }
      }
    })();
    return {
      lastSeq: () => applied,
      lag: () => pending,
      stop: async () => {
        stopped = true;
        unobserve();
        await dispose();
      },
    };
  }

  close(): void {
    this.publisher.close();
  }
}

export function jsMsgParts(m: JsMsg): { seq: number; subject: string; data: Uint8Array; readonly headers: MsgHdrs | undefined } {
  return {
    seq: m.seq,
    subject: m.subject,
    data: m.data,
    get headers() {
      return m.headers;
    },
  };
}

function notFound(err: unknown): null {
  if (/no message found|not found|404/i.test((err as Error).message ?? '')) return null;
  throw err;
}
