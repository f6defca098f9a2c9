import { headers as makeHeaders, type NatsConnection, type MsgHdrs } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import {
  STREAMS,
  subjects,
  decodeEvent,
  encodeEvent,
  validateEvent,
  eventMsgId,
  type ErrandEvent,
} from '@errand/contracts';
import { injectTrace, type Context } from '@errand/telemetry';
import { JetStreamPublisher, publishWithRetry, type PubAck } from './publisher.ts';
import { isMessageNotFound, isStreamNotFound } from './errors.ts';
import {
  followLog,
  followLogBatches,
  readTaskEvents,
  type BatchFollowOptions,
  type Following,
  type LogCore,
  type StoredEvent,
  type TaskEvents,
  type FollowOptions,
} from './readers.ts';

export type { Following, StoredEvent, TaskEvents };

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
 * context), read one task's history or follow it live, and follow the whole
 * log. The log owns every consumer it creates and removes it when its reader
 * is done (or at `close()`): the server would otherwise keep an ordered
 * consumer for minutes after its last pull. Its connection, JetStream
 * handles and publisher stay inside.
 */
export class EventLog {
  private readonly js: JetStreamClient;
  private readonly publisher: JetStreamPublisher;
  private jsmP: Promise<JetStreamManager> | undefined;
  /** the stop of every consumer this log has open */
  private readonly open = new Set<() => Promise<void>>();
  private readonly core: LogCore;

  constructor(
    private readonly nc: NatsConnection,
    private readonly onBadEvent: BadEventLogger = (i) =>
      console.error(JSON.stringify({ level: 'warn', msg: 'skipping an invalid event', ...i })),
  ) {
    this.js = jetstream(nc);
    this.publisher = new JetStreamPublisher(nc);
    this.core = { nc, js: this.js, jsm: () => this.jsm(), decode: (m) => this.decode(m), decodeAt: (seq, m) => this.decodeAt(seq, m), open: this.open };
  }

  private jsm(): Promise<JetStreamManager> {
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

  /**
   * Decode a message from the log; an invalid one is logged and skipped.
   * `json`: its body, when the reader has parsed it already (to look before it decodes).
   * A `JsMsg` is passed as it is: its headers are parsed only if the event's are asked for.
   */
  decode(m: { seq: number; subject: string; data: Uint8Array; readonly headers?: MsgHdrs | undefined }, json?: unknown): StoredEvent | undefined {
    return this.decodeAt(m.seq, m, json);
  }

  /** `decode` of a message whose sequence the reader knows (a core message of the log has none). */
  private decodeAt(seq: number, m: { subject: string; data: Uint8Array; readonly headers?: MsgHdrs | undefined }, json?: unknown): StoredEvent | undefined {
    const d = json === undefined ? decodeEvent(m.data) : validateEvent(json);
    if (!d.ok) {
      this.onBadEvent({ seq, subject: m.subject, error: d.error });
      return undefined;
    }
    return new Stored(seq, d.value, m);
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
   * Every event of one task after `afterSeq` (default: all), up to the
   * subject's last sequence at the time of the call.
   */
  async history(tenant: string, taskId: string, afterSeq = 0): Promise<StoredEvent[]> {
    const last = await this.lastSeq(tenant, taskId);
    if (last <= afterSeq) return [];
    const out: StoredEvent[] = [];
    for await (const e of this.taskEvents(tenant, taskId, { afterSeq, untilSeq: last })) out.push(e);
    return out;
  }

  /**
   * One task's events after `afterSeq`: its history, then live events as they
   * are written, until `untilSeq` is passed (when given), the reader stops
   * iterating, or `close()`. One ordered consumer, created on the first read
   * and removed when the iteration ends however it ends.
   */
  taskEvents(tenant: string, taskId: string, opts: { afterSeq?: number; untilSeq?: number } = {}): TaskEvents {
    return readTaskEvents(this.core, tenant, taskId, opts);
  }

  /**
   * Follow the whole log (or a filter) from `fromSeq` with an ordered
   * consumer, calling `onEvent` in order; survives reconnects. `onCaughtUp`
   * fires once, when the log's last sequence at the start has been passed.
   */
  follow(opts: FollowOptions): Promise<Following> {
    return followLog(this.core, opts);
  }

  /** Follow the whole log in batches with back-pressure (the history projector); see `followLogBatches`. */
  followBatches(opts: BatchFollowOptions): Promise<Following> {
    return followLogBatches(this.core, opts);
  }

  /** The log's identity (its stream's creation time: a wiped or new store makes a new one) and last sequence. */
  async identity(): Promise<{ created: string; lastSeq: number; firstSeq: number }> {
    const jsm = await this.jsm();
    const info = await jsm.streams.info(STREAMS.events);
    return { created: info.created, lastSeq: info.state.last_seq, firstSeq: info.state.first_seq };
  }

  /** Remove every event of one task from the log (retention); returns how many were removed. */
  async purgeTask(tenant: string, taskId: string): Promise<number> {
    const jsm = await this.jsm();
    const r = await jsm.streams.purge(STREAMS.events, { filter: subjects.event(tenant, taskId) });
    return r.purged;
  }

  /** The last sequence of the whole log (0 when empty). */
  async logLastSeq(): Promise<number> {
    const jsm = await this.jsm();
    return (await jsm.streams.info(STREAMS.events)).state.last_seq;
  }

  /** Streams of `STREAMS` that do not exist (for readiness checks); throws when NATS cannot be asked. */
  async missingStreams(): Promise<string[]> {
    const jsm = await this.jsm();
    const missing: string[] = [];
    for (const name of Object.values(STREAMS)) {
      await jsm.streams.info(name).catch((err: unknown) => {
        if (!isStreamNotFound(err)) throw err;
        missing.push(name);
      });
    }
    return missing;
  }

  /** Stop every reader and follower (removing their consumers) and the publisher. */
  close(): void {
    for (const stop of [...this.open]) void stop().catch(() => undefined);
    this.open.clear();
    this.publisher.close();
  }
}

/**
 * An event read from the log. Its headers are parsed only when asked for (a
 * replay reads millions of events and needs few of them), through a getter
 * on the prototype: one defined on each object made every object slow.
 */
class Stored implements StoredEvent {
  // an ES private field: not an own enumerable property, so a StoredEvent still compares as {seq, event}
  readonly #msg: { readonly headers?: MsgHdrs | undefined };
  constructor(
    readonly seq: number,
    readonly event: ErrandEvent,
    msg: { readonly headers?: MsgHdrs | undefined },
  ) {
    this.#msg = msg;
  }

  get headers(): MsgHdrs | undefined {
    return this.#msg.headers;
  }
}

function notFound(err: unknown): null {
  if (isMessageNotFound(err)) return null;
  throw err;
}
