import type { KV } from '@nats-io/kv';
import type { Logger } from '@errand/runtime';

/**
 * One active notifier, the others stand by. The active one holds a key in the
 * leader bucket (whose max age is the lease length, counted by the server, so
 * no clock of ours decides) and renews it every third of that; a standby tries
 * `create` (succeeds only when the key is absent: expired or released) as often.
 *
 * With several partitions (ERRAND_NOTIFIER_PARTITIONS) there is one lease per
 * partition, and `mayTake` keeps a notifier from taking more than its share.
 */
export class Lease {
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly holder: string,
    private readonly renewMs: number,
    private readonly onChange: (leader: boolean) => Promise<void> | void,
    private readonly log: Logger,
    private readonly mayTake: () => boolean = () => true,
  ) {}

  get leader(): boolean {
    return this.revision > 0;
  }

  /** Start; resolves after the first try to take the lease. */
  start(): Promise<void> {
    const run = () => {
      // a failed tick is logged; the chain never holds a rejection (that would end the process)
      this.ticking = this.ticking.then(() => this.tick()).catch((err: unknown) => this.log.error('notifier lease tick failed', { error: (err as Error).message }));
    };
    run();
    this.timer = setInterval(run, this.renewMs);
    return this.ticking;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const value = JSON.stringify({ holder: this.holder, at: new Date().toISOString() });
    if (this.leader) {
      try {
        this.revision = await this.kv.update(this.key, value, this.revision);
      } catch (err) {
        this.log.warn('lost the notifier lease', { error: (err as Error).message });
        this.revision = 0;
        await Promise.resolve(this.onChange(false)).catch(() => undefined);
      }
      return;
    }
    if (!this.mayTake()) return;
    try {
      this.revision = await this.kv.create(this.key, value);
    } catch {
      return; // another notifier is active
    }
    this.log.info('took the notifier lease', { holder: this.holder, key: this.key });
    try {
      await this.onChange(true);
    } catch (err) {
      // could not start delivering: let another notifier (or our next tick) try
      this.log.error('could not start delivering', { error: (err as Error).message });
      await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => undefined);
      this.revision = 0;
    }
  }

  /** Hand the lease over (after `beforeRelease`) and go on as a standby. */
  release(beforeRelease: () => Promise<void>): Promise<void> {
    this.ticking = this.ticking
      .then(async () => {
        if (!this.leader || this.stopped) return;
        await beforeRelease();
        await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => undefined);
        this.revision = 0;
        this.log.info('released the notifier lease', { key: this.key });
      })
      .catch((err: unknown) => this.log.error('notifier lease release failed', { error: (err as Error).message }));
    return this.ticking;
  }

  /** Stop renewing; release the lease (so a standby takes over at once) after `beforeRelease`. */
  async stop(beforeRelease: () => Promise<void>): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    await beforeRelease();
    if (this.leader) {
      await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => undefined);
      this.revision = 0;
    }
  }
}
