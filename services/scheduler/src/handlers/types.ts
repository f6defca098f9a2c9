import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, KvWatchInclude } from '@nats-io/kv';
import { BUCKETS, taskTypeInfoSchema, type TaskTypeInfo } from '@errand/contracts';
import type { Logger } from '@errand/runtime';

/** The task types workers published (KV `errand_types`), kept current by a watch. */
export async function watchTaskTypes(
  nc: NatsConnection,
  log: Logger,
  onChange: () => void,
): Promise<{ types: Map<string, TaskTypeInfo>; stop: () => void }> {
  const kv = await new Kvm(nc).open(BUCKETS.types);
  const types = new Map<string, TaskTypeInfo>();
  const put = (key: string, value: unknown) => {
    const parsed = taskTypeInfoSchema.safeParse(value);
    if (parsed.success) types.set(key, parsed.data);
    else log.warn('ignoring an invalid task type', { key, error: parsed.error.message });
  };
  // watch first, then list: an update in between is not missed
  const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (e && e.operation === 'PUT' && !types.has(key)) put(key, e.json());
  }
  void (async () => {
    for await (const e of watcher) {
      try {
        if (e.operation === 'PUT') put(e.key, e.json());
        else types.delete(e.key);
        onChange();
      } catch (err) {
        log.warn('task type watch', { error: (err as Error).message });
      }
    }
  })();
  return { types, stop: () => watcher.stop() };
}
