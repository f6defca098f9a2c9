import type { KV } from '@nats-io/kv';

import type { LogSink } from '@errand/contracts';

/** What the lease logs through (the services' logger fits). */
export type LeaseLogger = LogSink;

export interface KvLeaseOptions {
  /** a bucket whose max age is the lease length (counted by the server, so no clock of ours decides) */
  kv: KV;
  key: string;
  /** who holds it: written into the key for operators */
  holder: string;
  /** how often the holder renews and a standby tries to take it (a third of the lease is usual) */
  renewMs: number;
  /** told when the lease is taken (`true`) or lost or released (`false`); a throw on `true` gives the lease back */
  onChange: (held: boolean) => Promise<void> | void;
  log: LeaseLogger;
  /** asked before each try to take the lease (a notifier holding its share of partitions says no) */
  mayTake?: () => boolean;
}

/**
 * A lease on one KV key: a holder, the others stand by. Ticks are serial
 * (the next is timed once the last has finished, so a slow server never
 * has two updates racing on one revision). The holder renews with
 * `update(key, value, revision)`: fencing by revision, so a write refused
 * for any reason means the lease is lost (someone else may hold it now). A
 * standby tries `create`, which succeeds only when the key is absent
 * (expired with the bucket's max age, or released).
 */
export class KvLease {
  private rev = 0;
  private timer: NodeJS.Timeout | undefined;
  /** every tick, release and stop runs on this chain, one at a time */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: KvLeaseOptions) {}

  /** Whether this holder holds the lease (as of its last tick). */
  get held(): boolean {
    return this.rev > 0;
  }

  /** The key's revision written by the last successful tick (0 when not held): the fencing token. */
  get revision(): number {
    return this.rev;
  }

  /** Start ticking; resolves after the first try to take the lease. */
  start(): Promise<void> {
    this.stopped = false;
    return this.enqueue(() => this.tick()).then(() => this.schedule());
  }

  /** The next tick `renewMs` after the last one started, never before it ended. */
  private schedule(startedAt = Date.now()): void {
    if (this.stopped) return;
    const wait = Math.max(0, this.o.renewMs - (Date.now() - startedAt));
    this.timer = setTimeout(() => {
      const t = Date.now();
      void this.enqueue(() => this.tick()).then(() => this.schedule(t));
    }, wait);
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    // a failed job is logged; the chain never holds a rejection (that would end the process)
    this.chain = this.chain.then(job).catch((err: unknown) => this.o.log.error('lease tick failed', { key: this.o.key, error: (err as Error).message }));
    return this.chain;
  }

  private value(): string {
    return JSON.stringify({ holder: this.o.holder, at: new Date().toISOString() });
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.held) {
      try {
        this.rev = await this.o.kv.update(this.o.key, this.value(), this.rev);
      } catch (err) {
        this.o.log.warn('lost the lease', { key: this.o.key, holder: this.o.holder, error: (err as Error).message });
        this.rev = 0;
        await this.tell(false);
      }
      return;
    }
    if (this.o.mayTake && !this.o.mayTake()) return;
    try {
      this.rev = await this.o.kv.create(this.o.key, this.value());
    } catch (err) {
      // another holder has it (or the server is unreachable: the next tick tries again)
      this.o.log.debug('lease not taken', { key: this.o.key, error: (err as Error).message });
      return;
    }
    this.o.log.info('took the lease', { key: this.o.key, holder: this.o.holder });
    try {
      await this.o.onChange(true);
    } catch (err) {
      this.o.log.error('could not act on the lease; giving it back', { key: this.o.key, error: (err as Error).message });
      await this.drop();
    }
  }

  private async tell(held: boolean): Promise<void> {
    try {
      await this.o.onChange(held);
    } catch (err) {
      this.o.log.error('lease change handler failed', { key: this.o.key, error: (err as Error).message });
    }
  }

  /** Delete the key at our revision (so a standby takes it on its next tick) and forget it. */
  private async drop(): Promise<void> {
    const rev = this.rev;
    this.rev = 0;
    await this.o.kv.delete(this.o.key, { previousSeq: rev }).catch(() => undefined);
  }

  /** Hand the lease over now (after `beforeRelease`) and go on as a standby. */
  release(beforeRelease: () => Promise<void> | void = () => undefined): Promise<void> {
    return this.enqueue(async () => {
      if (!this.held || this.stopped) return;
      await beforeRelease();
      await this.drop();
      this.o.log.info('released the lease', { key: this.o.key });
      await this.tell(false);
    });
  }

  /**
   * Stop ticking. Holding, it runs `beforeRelease`, then deletes the key so a
   * standby takes over at once, unless `release` is false (a crash as tests
   * play it: the key then runs out with the bucket's max age).
   */
  stop(opts: { release?: boolean; beforeRelease?: () => Promise<void> | void } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.enqueue(async () => {
      const was = this.held;
      await opts.beforeRelease?.();
      if (!was) return;
      if (opts.release === false) this.rev = 0;
      else await this.drop();
      await this.tell(false);
    });
  }
}
