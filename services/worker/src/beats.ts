import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, encodeJson, kvKeys, subjects, type Heartbeat } from '@errand/contracts';
import type { Logger } from '@errand/runtime';
import { typeInfo, type AnyTaskType } from './registry.ts';

/** Put a TaskTypeInfo per type into KV `errand_types` (INTERNALS.md "Task types"). */
export async function publishTypes(nc: NatsConnection, types: AnyTaskType[], log: Logger): Promise<void> {
  const kv = await new Kvm(nc).open(BUCKETS.types);
  const now = new Date();
  const results = await Promise.allSettled(types.map((t) => kv.put(kvKeys.taskType(t.name), encodeJson(typeInfo(t, now)))));
  results.forEach((r, i) => {
    if (r.status === 'rejected') log.warn('could not publish a task type', { taskType: types[i]!.name, err: r.reason });
  });
}

/** Core-NATS liveness beat listing the attempts this worker runs. */
export function publishHeartbeat(nc: NatsConnection, hb: Heartbeat, log: Logger): void {
  try {
    nc.publish(subjects.heartbeat, encodeJson(hb));
  } catch (err) {
    log.debug('heartbeat not sent', { err });
  }
}
