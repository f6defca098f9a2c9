import type { KV } from '@nats-io/kv';
import { taskTypeInfoSchema, type TaskTypeInfo } from '@errand/contracts';
import type { Logger } from '@errand/nats';

/** The task types workers publish in KV `errand_types`, kept current by a watch. */
export class TypeCatalog {
  private readonly types = new Map<string, TaskTypeInfo>();
  private stopWatch: (() => void) | undefined;
  private kv: KV | undefined;

  constructor(private readonly log: Logger) {}

  async start(kv: KV): Promise<void> {
    this.kv = kv;
    const iter = await kv.watch();
    this.stopWatch = () => iter.stop();
    void (async () => {
      for await (const e of iter) {
        if (e.operation === 'PUT') this.put(e.key, e.string());
        else this.types.delete(e.key);
      }
    })().catch((err: unknown) => this.log.error('task type watch ended', { err }));
  }

  stop(): void {
    this.stopWatch?.();
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  /** The pool of a known type. */
  pool(name: string): string | undefined {
    return this.types.get(name)?.pool;
  }

  all(): TaskTypeInfo[] {
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The type, from the cache or (just registered, not yet watched) from the bucket. */
  async get(name: string): Promise<TaskTypeInfo | undefined> {
    const cached = this.types.get(name);
    if (cached || !this.kv) return cached;
    const e = await this.kv.get(name);
    if (e && e.operation === 'PUT') return this.put(name, e.string());
    return undefined;
  }

  private put(key: string, text: string): TaskTypeInfo | undefined {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = taskTypeInfoSchema.safeParse(json);
    if (!parsed.success) {
      this.log.warn('ignoring an invalid task type', { key, error: parsed.error?.message ?? 'not JSON' });
      return undefined;
    }
    this.types.set(key, parsed.data);
    return parsed.data;
  }
}
