import type { Heartbeat } from '@errand/contracts';

/** What the last beat of one worker said. */
export interface WorkerSeen {
  types: readonly string[];
  freeSlots: number;
  at: number;
}

/**
 * Which workers serve which task types, from their heartbeats. Pure: time
 * comes in as an argument. A worker counts while heard within the lease; a
 * beat with `stopping` removes it at once.
 */
export class Liveness {
  private readonly workers = new Map<string, WorkerSeen>();
  /** when a worker serving the type was last heard, kept after the workers are gone */
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly leaseMs: number) {}

  /** Record a beat; returns the types whose liveness may have changed. */
  beat(hb: Heartbeat, now: number): string[] {
    const before = this.workers.get(hb.workerId);
    for (const t of hb.types) this.lastSeen.set(t, now);
    if (hb.stopping) {
      this.workers.delete(hb.workerId);
      return [...new Set([...(before?.types ?? []), ...hb.types])];
    }
    this.workers.set(hb.workerId, { types: hb.types, freeSlots: hb.freeSlots, at: now });
    return [...new Set([...(before?.types ?? []), ...hb.types])];
  }

  /** Forget workers not heard within the lease; returns the types they served. */
  expire(now: number): string[] {
    const out = new Set<string>();
    for (const [id, w] of this.workers) {
      if (now - w.at < this.leaseMs) continue;
      this.workers.delete(id);
      for (const t of w.types) out.add(t);
    }
    return [...out];
  }

  /** Live workers of a type and their free slots, and when one serving it was last heard (ms). */
  of(type: string, now: number): { workers: number; freeSlots: number; lastSeenAt: number | undefined } {
    let workers = 0;
    let freeSlots = 0;
    for (const w of this.workers.values()) {
      if (!w.types.includes(type) || now - w.at >= this.leaseMs) continue;
      workers++;
      freeSlots += w.freeSlots;
    }
    return { workers, freeSlots, lastSeenAt: this.lastSeen.get(type) };
  }
}
