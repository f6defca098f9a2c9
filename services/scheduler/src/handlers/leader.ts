import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { BUCKETS, kvKeys } from '@errand/contracts';
import { isKeyExists } from '@errand/nats';
import { type Logger } from '@errand/runtime';

/**
 * Leader election on KV `errand_leader`: the leader holds the key and
 * rewrites it every `renewMs`; the bucket's max age lets the key of a dead
 * leader expire, and a standby then creates it. Correctness never rests on
 * this alone: every decision is written with the task's expected last
 * sequence, so even two leaders cannot dispatch one attempt twice.
 */
export class LeaderLease {
  private kv: KV | undefined;
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly id: string,
    private readonly log: Logger,
    private readonly onChange: (leader: boolean) => void,
    private readonly renewMs = 1_000,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  async start(): Promise<void> {
    this.kv = await new Kvm(this.nc).open(BUCKETS.leader);
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.renewMs);
  }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log.info(leader ? 'became the leader' : 'no longer the leader', { schedulerId: this.id });
    this.onChange(leader);
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.kv) return;
    try {
      if (this.leader) {
        this.revision = await this.kv.update(kvKeys.leader, this.id, this.revision);
      } else {
        this.revision = await this.kv.create(kvKeys.leader, this.id);
        this.set(true);
      }
    } catch (err) {
      if (this.leader) {
        this.log.warn('lost the leader lease', { error: (err as Error).message });
        this.set(false);
      } else if (!isKeyExists(err)) {
        this.log.debug('leader lease not taken', { error: (err as Error).message });
      }
    }
  }

  /** Stop, and hand the lease over at once when holding it (unless `release` is false: it then runs out). */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (release && this.leader && this.kv) {
      await this.kv.delete(kvKeys.leader, { previousSeq: this.revision }).catch(() => undefined);
    }
    this.set(false);
  }
}
