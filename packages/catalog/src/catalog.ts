import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import { BUCKETS, decodeJson, heartbeatSchema, subjects, taskTypeInfoSchema, type TaskTypeInfo } from '@errand/contracts';
import { Liveness } from './liveness.ts';

/** One task type as the catalog knows it. */
export interface TypeEntry {
  /** what workers published in KV `errand_types` */
  info: TaskTypeInfo;
  /** at least one worker serving it was heard within the lease */
  live: boolean;
  /** live workers serving it */
  workers: number;
  /** their free slots, summed */
  freeSlots: number;
  /** ISO time a worker serving it was last heard; null when never (since this catalog started) */
  lastSeenAt: string | null;
}

/** A type appeared (`added`), changed its published info, was removed, went live or offline. */
export interface CatalogChange {
  type: string;
  kind: 'added' | 'updated' | 'removed' | 'live' | 'offline';
}

export interface CatalogLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface CatalogOptions {
  /** a worker not heard for this long no longer makes its types live (ERRAND_LEASE_MS) */
  leaseMs: number;
  log: CatalogLogger;
  now?: () => number;
}

/**
 * The one task-type catalog: follows KV `errand_types` (what workers publish)
 * and the workers' heartbeats (which types are live). Owns its KV watch, its
 * subscription and its timer, and closes them.
 */
export class TypeCatalog {
  private readonly infos = new Map<string, TaskTypeInfo>();
  private readonly liveness: Liveness;
  /** the liveness last told to listeners, per type */
  private readonly told = new Map<string, boolean>();
  private readonly listeners = new Set<(c: CatalogChange) => void>();
  private readonly now: () => number;
  private stops: (() => void)[] = [];
  private kv: KV | undefined;

  /** A catalog that knows nothing until `start`. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly o: CatalogOptions,
  ) {
    this.liveness = new Liveness(o.leaseMs);
    this.now = o.now ?? Date.now;
  }

  /** A started catalog. */
  static async open(nc: NatsConnection, o: CatalogOptions): Promise<TypeCatalog> {
    const c = new TypeCatalog(nc, o);
    await c.start();
    return c;
  }

  /** Follow the bucket and the heartbeats: resolves once every type already published is known. */
  async start(): Promise<void> {
    const nc = this.nc;
    const kv = (this.kv = await new Kvm(nc).open(BUCKETS.types));
    const sub: Subscription = nc.subscribe(subjects.heartbeat, {
      callback: (err, msg) => {
        if (!err) this.onBeat(msg.data);
      },
    });
    this.stops.push(() => sub.unsubscribe());
    // a follower that has just started would otherwise count every type offline until the next beats
    nc.publish(subjects.heartbeatRequest);
    // watch first, then list: an update in between is not missed
    const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    this.stops.push(() => watcher.stop());
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (e && e.operation === 'PUT' && !this.infos.has(key)) this.put(key, e.string());
    }
    void (async () => {
      for await (const e of watcher) {
        if (e.operation === 'PUT') this.put(e.key, e.string());
        else if (this.infos.delete(e.key)) this.emit({ type: e.key, kind: 'removed' });
      }
    })().catch((err: unknown) => this.o.log.warn('task type watch ended', { error: (err as Error).message }));
    const timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1_000, Math.floor(this.o.leaseMs / 4))));
    this.stops.push(() => clearInterval(timer));
  }

  private onBeat(data: Uint8Array): void {
    const hb = heartbeatSchema.safeParse(safeJson(data));
    if (!hb.success) {
      this.o.log.warn('ignoring an invalid heartbeat', { error: hb.error.message });
      return;
    }
    this.recheck(this.liveness.beat(hb.data, this.now()));
  }

  private sweep(): void {
    this.recheck(this.liveness.expire(this.now()));
  }

  /** Tell listeners of the registered types among `names` whose liveness changed. */
  private recheck(names: Iterable<string>): void {
    for (const name of names) {
      if (!this.infos.has(name)) continue;
      const live = this.liveness.of(name, this.now()).workers > 0;
      // a type starts offline: only a change is told
      if ((this.told.get(name) ?? false) === live) continue;
      this.told.set(name, live);
      this.emit({ type: name, kind: live ? 'live' : 'offline' });
    }
  }

  private put(key: string, text: string): TaskTypeInfo | undefined {
    const parsed = taskTypeInfoSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      this.o.log.warn('ignoring an invalid task type', { key, error: parsed.error.message });
      return undefined;
    }
    const had = this.infos.has(key);
    this.infos.set(key, parsed.data);
    this.emit({ type: key, kind: had ? 'updated' : 'added' });
    this.recheck([key]);
    return parsed.data;
  }

  private emit(c: CatalogChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.o.log.warn('a catalog listener failed', { error: (err as Error).message });
      }
    }
  }

  /** Listen for changes; returns the function that stops listening. */
  onChange(listener: (c: CatalogChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A registered type with its liveness now, or undefined. */
  get(name: string): TypeEntry | undefined {
    const info = this.infos.get(name);
    if (!info) return undefined;
    const l = this.liveness.of(name, this.now());
    return { info, live: l.workers > 0, workers: l.workers, freeSlots: l.freeSlots, lastSeenAt: l.lastSeenAt === undefined ? null : new Date(l.lastSeenAt).toISOString() };
  }

  /** Every registered type, by name, live or not. */
  list(): TypeEntry[] {
    return [...this.infos.keys()].sort().map((n) => this.get(n)!);
  }

  /** Whether the type is registered and has a live worker now. */
  isLive(name: string): boolean {
    return this.infos.has(name) && this.liveness.of(name, this.now()).workers > 0;
  }

  /** The registered types' published info (the scheduler's pool and defaults). */
  infoMap(): ReadonlyMap<string, TaskTypeInfo> {
    return this.infos;
  }

  /** A type's info from the catalog, or (published a moment ago, not watched yet) from the bucket. */
  async lookup(name: string): Promise<TaskTypeInfo | undefined> {
    const cached = this.infos.get(name);
    if (cached || !this.kv) return cached;
    const e = await this.kv.get(name).catch(() => null);
    return e && e.operation === 'PUT' ? this.put(name, e.string()) : undefined;
  }

  /** Stop the watch, the subscription and the timer. */
  close(): void {
    for (const s of this.stops.splice(0)) s();
    this.listeners.clear();
  }
}

function safeJson(data: Uint8Array | string): unknown {
  try {
    return typeof data === 'string' ? (JSON.parse(data) as unknown) : decodeJson(data);
  } catch {
    return undefined;
  }
}
