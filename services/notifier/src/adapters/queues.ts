/*
 * In-process plumbing of the deliveries (adapters: they run the handlers' I/O,
 * they decide nothing): per-task serial queues, a concurrency limit, a memo cache.
 */

/**
 * Per-task serial queues: items of one key run one after another, in arrival
 * order; different keys run in parallel. A handler's failure never stops the
 * queue (the handler decides what to do with its message).
 */
export class KeyedQueues<T> {
  private readonly queues = new Map<string, T[]>();
  private readonly idleWaiters = new Set<() => void>();

  /** `waiting` lists, whenever it is called, the items queued behind the one being handled. */
  constructor(private readonly handle: (key: string, item: T, waiting: () => readonly T[]) => Promise<void>) {}

  push(key: string, item: T): void {
    const q = this.queues.get(key);
    if (q) {
      q.push(item);
      return;
    }
    const fresh = [item];
    this.queues.set(key, fresh);
    void this.drain(key, fresh);
  }

  /** True while the key has an item running or waiting. */
  busy(key: string): boolean {
    return this.queues.has(key);
  }

  get size(): number {
    return this.queues.size;
  }

  private async drain(key: string, q: T[]): Promise<void> {
    while (q.length > 0) {
      const item = q[0]!;
      try {
        await this.handle(key, item, () => q.slice(1));
      } catch {
        // the handler owns its errors; nothing escapes a queue
      }
      q.shift();
    }
    this.queues.delete(key);
    if (this.queues.size === 0) for (const w of this.idleWaiters) w();
  }

  /** Resolves when no queue has work. */
  async idle(): Promise<void> {
    if (this.queues.size === 0) return;
    await new Promise<void>((resolve) => {
      const w = () => {
        this.idleWaiters.delete(w);
        resolve();
      };
      this.idleWaiters.add(w);
    });
  }
}

/** At most `n` calls of `run` at once. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}
  async run<R>(fn: () => Promise<R>): Promise<R> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** A Map that forgets its least recently used entries beyond `max`, unless `keep(key)`. */
export class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(
    private readonly max: number,
    private readonly keep: (key: string) => boolean = () => false,
  ) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size <= this.max) return;
    for (const k of this.map.keys()) {
      if (this.map.size <= this.max) break;
      if (!this.keep(k)) this.map.delete(k);
    }
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}
