import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { heartbeatSchema, subjects, type Heartbeat } from '@errand/contracts';
import type { Logger } from '@errand/runtime';

interface Seen {
  beat: Heartbeat;
  heardAt: number;
}

/** Workers and free slots of one pool. */
export interface PoolLoad {
  pool: string;
  workers: number;
  slots: number;
  freeSlots: number;
}

/**
 * The live workers, from their heartbeats (core NATS, `subjects.heartbeat`):
 * a worker is live while it beat within the lease and did not say it stops.
 * Feeds the `errand_workers` / `errand_worker_slots_free` gauges.
 *
 * Interim: the scheduler's catalog of live workers ("sched" branch) tracks the
 * same beats; once `GET /v1/task-types` carries `workers`/`freeSlots` from it,
 * this adapter can read that catalog instead of its own subscription.
 */
export class WorkerBeats {
  private readonly workers = new Map<string, Seen>();
  private sub: Subscription | undefined;

  constructor(
    private readonly leaseMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(nc: NatsConnection): void {
    this.sub = nc.subscribe(subjects.heartbeat, {
      callback: (err, m) => {
        if (err) return;
        let json: unknown;
        try {
          json = m.json();
        } catch {
          json = undefined;
        }
        const p = heartbeatSchema.safeParse(json);
        if (!p.success) {
          this.log.debug('ignoring an invalid heartbeat', { subject: m.subject });
          return;
        }
        this.beat(p.data);
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  beat(b: Heartbeat): void {
    if (b.stopping) this.workers.delete(b.workerId);
    else this.workers.set(b.workerId, { beat: b, heardAt: this.now() });
  }

  /**
   * Load per pool; `poolOf` maps a type name to its pool. A worker counts once
   * in each pool it serves a type of.
   */
  pools(poolOf: (type: string) => string | undefined): PoolLoad[] {
    const out = new Map<string, PoolLoad>();
    const cutoff = this.now() - this.leaseMs;
    for (const [id, { beat, heardAt }] of this.workers) {
      if (heardAt < cutoff) {
        this.workers.delete(id);
        continue;
      }
      // a worker that does not list its types (an older one) is counted on the default pool
      const pools = new Set(beat.types.length ? beat.types.map((t) => poolOf(t) ?? 'default') : ['default']);
      for (const pool of pools) {
        const p = out.get(pool) ?? { pool, workers: 0, slots: 0, freeSlots: 0 };
        p.workers++;
        p.slots += beat.slots;
        p.freeSlots += beat.freeSlots;
        out.set(pool, p);
      }
    }
    return [...out.values()].sort((a, b) => a.pool.localeCompare(b.pool));
  }
}
