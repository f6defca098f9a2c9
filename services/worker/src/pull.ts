import { AckPolicy, jetstreamManager, type Consumer, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, STREAMS, subjects } from '@errand/contracts';
import type { Logger } from '@errand/nats';

const NS = 1_000_000;
const ACK_WAIT_MS = 30_000;

/** Create (or find) the durable pull consumer of a pool on ERRAND_WORK. Idempotent. */
export async function ensureWorkConsumer(nc: NatsConnection, js: JetStreamClient, pool: string, type: string): Promise<Consumer> {
  const jsm = await jetstreamManager(nc);
  const name = CONSUMERS.worker(pool, type);
  try {
    await jsm.consumers.info(STREAMS.work, name);
  } catch (err) {
    if (!/consumer not found/i.test((err as Error).message)) throw err;
    // the same config from several workers at once is accepted by the server
    await jsm.consumers.add(STREAMS.work, {
      durable_name: name,
      filter_subject: subjects.work(pool, type),
      ack_policy: AckPolicy.Explicit,
      ack_wait: ACK_WAIT_MS * NS,
    });
  }
  return await js.consumers.get(STREAMS.work, name);
}

export interface PullerOptions {
  consumers: Map<string, Consumer>;
  slots: number;
  /** start one message; the returned promise settles when its slot is free again */
  onMessage: (m: JsMsg, pool: string) => Promise<void>;
  log: Logger;
  expiresMs?: number;
}

/**
 * Pull only what free slots allow: each fetch asks for at most the slots
 * that are neither running nor already asked for, and each message starts
 * as it arrives, so no more messages are held than there are free slots.
 * Several pools share the slots, taking turns.
 */
export class SlotPuller {
  private runningCount = 0;
  private reserved = 0;
  private stopped = false;
  private scheduled = false;
  private pausedUntil = 0;
  private turn = 0;
  private readonly fetches = new Set<ConsumerMessages>();
  private readonly tasks = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: PullerOptions) {}

  get inUse(): number {
    return this.runningCount;
  }

  start(): void {
    this.pump();
  }

  /** Coalesce: one fetch round per tick however many slots freed. */
  pump(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.fill();
    });
  }

  private fill(): void {
    if (this.stopped || Date.now() < this.pausedUntil) return;
    const free = this.o.slots - this.runningCount - this.reserved;
    if (free <= 0) return;
    const pools = [...this.o.consumers.keys()];
    const share = Math.floor(free / pools.length);
    let extra = free % pools.length;
    for (let i = 0; i < pools.length; i++) {
      const pool = pools[(this.turn + i) % pools.length]!;
      const n = share + (extra > 0 ? 1 : 0);
      if (extra > 0) extra--;
      if (n > 0) void this.fetch(pool, n);
    }
    this.turn = (this.turn + 1) % pools.length;
  }

  private async fetch(pool: string, n: number): Promise<void> {
    this.reserved += n;
    let got = 0;
    let failed = false;
    try {
      const expires = this.o.expiresMs ?? 5_000;
      const iter = await this.o.consumers.get(pool)!.fetch({ max_messages: n, expires });
      this.fetches.add(iter);
      // A pull request sent to a node that then died is never answered, and nats.js
      // stops watching its heartbeats while it reconnects: without this, the fetch
      // (and the slots it holds) would wait for ever, and the worker pull nothing more.
      const guard = setTimeout(() => iter.stop(), expires + 5_000);
      try {
        for await (const m of iter) {
          got++;
          this.reserved--;
          this.run(m, pool);
        }
      } finally {
        clearTimeout(guard);
        this.fetches.delete(iter);
      }
    } catch (err) {
      failed = true;
      if (!this.stopped) this.o.log.warn('pulling work failed; trying again in 1 s', { pool, err });
    } finally {
      this.reserved -= n - got;
      if (failed) this.pauseThenPump(1_000);
      else this.pump();
    }
  }

  private run(m: JsMsg, pool: string): void {
    if (this.stopped) {
      m.nak(); // pulled while stopping: hand it straight back
      return;
    }
    this.runningCount++;
    const t = this.o
      .onMessage(m, pool)
      .catch((err: unknown) => this.o.log.error('work handler escaped', { err }))
      .finally(() => {
        this.runningCount--;
        this.tasks.delete(t);
        this.pump();
      });
    this.tasks.add(t);
  }

  private pauseThenPump(ms: number): void {
    this.pausedUntil = Date.now() + ms;
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
