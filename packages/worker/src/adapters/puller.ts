import { AckPolicy, jetstream, type Consumer, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { nanos } from '@nats-io/nats-core';
import { CONSUMERS, STREAMS, subjects } from '@errand/contracts';
import { ensureConsumer } from '@errand/nats';
import type { Logger } from '@errand/runtime';
import { allocateSlots } from '../domain/allocate.ts';

const ACK_WAIT_MS = 30_000;
/** the shortest pull request nats.js accepts */
const MIN_EXPIRES_MS = 1_000;

/** The worker's durable pull consumer of one task type on one pool (filter `subjects.work(pool, type)`). */
export async function workConsumer(nc: NatsConnection, jsm: JetStreamManager, pool: string, type: string): Promise<Consumer> {
  const name = CONSUMERS.worker(pool, type);
  // ERRAND_WORK has work-queue retention: each consumer's filter is one exact subject, so none overlap
  await ensureConsumer(jsm, STREAMS.work, {
    durable_name: name,
    filter_subject: subjects.work(pool, type),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ACK_WAIT_MS),
  });
  return await jetstream(nc).consumers.get(STREAMS.work, name);
}

export interface PullerOptions {
  /** the worker's consumers, by key (one per pool and type) */
  consumers: Map<string, Consumer>;
  slots: number;
  /** start one message; the returned promise settles when its slot is free again */
  onMessage: (m: JsMsg, key: string) => Promise<void>;
  log: Logger;
  expiresMs?: number;
}

/**
 * Pull only what free slots allow, across all of the worker's consumers:
 * the open requests never ask for more messages than there are free slots
 * (`allocateSlots` shares them), and each message starts as it arrives.
 */
export class SlotPuller {
  private runningCount = 0;
  private stopped = false;
  private scheduled = false;
  private pausedUntil = 0;
  private turn = 0;
  private readonly asked = new Map<string, number>();
  private readonly busy = new Set<string>();
  private readonly fetches = new Set<ConsumerMessages>();
  private readonly tasks = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: PullerOptions) {}

  /** slots running a handler now */
  get inUse(): number {
    return this.runningCount;
  }

  start(): void {
    this.pump();
  }

  /** Coalesce: one fetch round per tick however many slots freed. */
  private pump(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.fill();
    });
  }

  private get reserved(): number {
    let n = 0;
    for (const k of this.asked.values()) n += k;
    return n;
  }

  private fill(): void {
    if (this.stopped) return;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      // a later failure may have moved the pause past the pending retry: always leave a timer behind
      this.retryAfter(wait);
      return;
    }
    const keys = [...this.o.consumers.keys()];
    const free = this.o.slots - this.runningCount - this.reserved;
    const plan = allocateSlots(free, keys.map((key) => ({ key, asked: this.asked.get(key) ?? 0, busy: this.busy.has(key) })), this.turn);
    this.turn = (this.turn + 1) % Math.max(1, keys.length);
    // a consumer left without a request waits for one to end: keep this round's short, so slots rotate soon
    const starved = keys.some((k) => (this.asked.get(k) ?? 0) === 0 && !plan.has(k));
    const expires = starved ? MIN_EXPIRES_MS : (this.o.expiresMs ?? 5_000);
    for (const [key, n] of plan) void this.fetch(key, n, expires);
  }

  private ask(key: string, delta: number): void {
    this.asked.set(key, (this.asked.get(key) ?? 0) + delta);
  }

  private async fetch(key: string, n: number, expires: number): Promise<void> {
    this.ask(key, n);
    let got = 0;
    let failed = false;
    try {
      const iter = await deadline(this.o.consumers.get(key)!.fetch({ max_messages: n, expires }), expires + 5_000, (late) => void late.stop());
      this.fetches.add(iter);
      // A pull request sent to a node that then died is never answered, and nats.js
      // stops watching its heartbeats while it reconnects: without this, the fetch
      // (and the slots it holds) would wait for ever, and the worker pull nothing more.
      const guard = setTimeout(() => iter.stop(), expires + 5_000);
      try {
        for await (const m of iter) {
          got++;
          this.ask(key, -1);
          this.busy.add(key);
          this.run(m, key);
        }
      } finally {
        clearTimeout(guard);
        this.fetches.delete(iter);
      }
    } catch (err) {
      failed = true;
      if (!this.stopped) this.o.log.warn('pulling work failed; trying again in 1 s', { consumer: key, err });
    } finally {
      this.ask(key, -(n - got));
      if (got === 0) this.busy.delete(key);
      if (failed) this.pauseThenPump(1_000);
      else this.pump();
    }
  }

  private run(m: JsMsg, key: string): void {
    if (this.stopped) {
      m.nak(); // pulled while stopping: hand it straight back
      return;
    }
    this.runningCount++;
    const t = this.o
      .onMessage(m, key)
      .catch((err: unknown) => this.o.log.error('work handler escaped', { err }))
      .finally(() => {
        this.runningCount--;
        this.tasks.delete(t);
        this.pump();
      });
    this.tasks.add(t);
  }

  private pauseThenPump(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    this.retryAfter(ms);
  }

  private retryAfter(ms: number): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, ms);
  }

  /** Stop pulling; resolves when the handlers settled or after `waitMs`. */
  async stop(waitMs: number): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const f of this.fetches) f.stop();
    if (this.tasks.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.tasks]),
      new Promise((r) => {
        timer = setTimeout(r, waitMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }
}

/**
 * `p`, or a rejection after `ms`: starting a pull on a cluster whose consumer
 * leader has just died may not answer at all, and the slots it reserved would
 * stay reserved for ever. What `p` resolves to after the deadline goes to `late`.
 */
function deadline<T>(p: Promise<T>, ms: number, late: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`no answer to the pull request in ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        if (done) late(v);
        else resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!done) reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
