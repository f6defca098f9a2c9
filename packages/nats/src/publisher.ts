import { headers as makeHeaders, nuid, type MsgHdrs, type NatsConnection, type Msg, type Subscription } from '@nats-io/nats-core';
import { PublishError, ERR_WRONG_LAST_SEQUENCE } from './errors.ts';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface PublishOptions {
  msgID?: string;
  /** `Nats-Expected-Last-Subject-Sequence`: refuse the write unless the subject's last message has this sequence */
  expectLastSubjectSeq?: number;
  headers?: MsgHdrs;
  timeoutMs?: number;
}

interface Pending {
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  deadline: number;
}

const decoder = new TextDecoder();

/**
 * A JetStream publisher that does not wait for one ack before sending the
 * next message: core publishes with a reply subject under one wildcard inbox,
 * a map of pending acks, and one timeout sweep. nats.js batches the writes of
 * one tick into one socket write, so a burst of publishes costs one flush.
 * Measured ~6x the throughput of stock `js.publish` (NATS-FACTS.md).
 */
export class JetStreamPublisher {
  private readonly prefix = `_INBOX.errand.${nuid.next()}.`;
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private counter = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly defaultTimeoutMs = 5_000,
  ) {
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweep = setInterval(() => this.expire(), 200);
    this.sweep.unref();
  }

  /** Messages published and not yet acknowledged. */
  get inFlight(): number {
    return this.pending.size;
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PubAck> {
    if (this.closed) return Promise.reject(new PublishError('publisher closed', 'closed', false));
    const token = (this.counter++).toString(36);
    let h = opts.headers;
    if (opts.msgID !== undefined || opts.expectLastSubjectSeq !== undefined) {
      h = h ?? makeHeaders();
      if (opts.msgID !== undefined) h.set('Nats-Msg-Id', opts.msgID);
      if (opts.expectLastSubjectSeq !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(opts.expectLastSubjectSeq));
    }
    return new Promise<PubAck>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: Date.now() + (opts.timeoutMs ?? this.defaultTimeoutMs) });
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, ...(h ? { headers: h } : {}) });
      } catch (err) {
        this.pending.delete(token);
        reject(new PublishError(`publish to ${subject} failed: ${(err as Error).message}`, 'closed', true));
      }
    });
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return;
    this.pending.delete(token);
    const code = msg.headers?.code ?? 0;
    if (code === 503) {
      p.reject(new PublishError('no JetStream stream answered (503 no responders)', 'no_responders', true));
      return;
    }
    let body: { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
    try {
      body = JSON.parse(decoder.decode(msg.data));
    } catch {
      p.reject(new PublishError(`unreadable publish ack (status ${code})`, 'api_error', true));
      return;
    }
    if (body.error) {
      const errCode = body.error.err_code ?? 0;
      const wrongSeq = errCode === ERR_WRONG_LAST_SEQUENCE;
      p.reject(
        new PublishError(
          body.error.description ?? 'JetStream refused the message',
          wrongSeq ? 'wrong_last_sequence' : 'api_error',
          !wrongSeq && (body.error.code ?? 0) >= 500,
          errCode,
        ),
      );
      return;
    }
    p.resolve({ stream: body.stream ?? '', seq: body.seq ?? 0, duplicate: body.duplicate === true });
  }

  private expire(): void {
    const now = Date.now();
    for (const [token, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(token);
        p.reject(new PublishError('no publish ack before the timeout', 'timeout', true));
      }
    }
  }

  /** Stop: pending publishes are rejected. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    for (const p of this.pending.values()) p.reject(new PublishError('publisher closed', 'closed', false));
    this.pending.clear();
  }
}

/**
 * Publish with retries on retryable failures (timeouts, no responders while
 * NATS or the stream recovers). Safe because every message carries a msgID.
 */
export async function publishWithRetry(
  pub: JetStreamPublisher,
  subject: string,
  data: Uint8Array,
  opts: PublishOptions & { attempts?: number; backoffMs?: number } = {},
): Promise<PubAck> {
  const attempts = opts.attempts ?? 8;
  let delay = opts.backoffMs ?? 100;
  for (let i = 1; ; i++) {
    try {
      return await pub.publish(subject, data, opts);
    } catch (err) {
      if (!(err instanceof PublishError) || !err.retryable || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

/** at most this many items a note: well within any server's max payload whatever the ids' lengths */
const NOTE_ITEMS = 1_000;

/**
 * Publish `items` as core-NATS notes of at most 1,000 items each (`wrap`
 * makes a note of a chunk): the internal notes services send one another,
 * fire and forget. Throws when the connection is closed.
 */
export function publishNotes<T>(nc: NatsConnection, subject: string, items: readonly T[], wrap: (chunk: T[]) => unknown): void {
  for (let i = 0; i < items.length; i += NOTE_ITEMS) nc.publish(subject, JSON.stringify(wrap(items.slice(i, i + NOTE_ITEMS))));
}
