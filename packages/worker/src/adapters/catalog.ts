import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, encodeJson, kvKeys, subjects, type Heartbeat } from '@errand/contracts';
import type { Logger } from '@errand/runtime';
import { typeInfo, type AnyTaskType } from '../registry.ts';

/** A type as this worker serves it: the definition and the pool it is served on. */
export interface Served {
  type: AnyTaskType;
  pool: string;
}

/**
 * Put a TaskTypeInfo per type into KV `errand_types` (INTERNALS.md "Task types").
 * `strict`: a failed put throws (at start, where a type not in KV is not live).
 */
export async function publishTypes(nc: NatsConnection, served: Served[], log: Logger, strict = false): Promise<void> {
  const kv = await new Kvm(nc).open(BUCKETS.types);
  const now = new Date();
  const results = await Promise.allSettled(served.map((s) => kv.put(kvKeys.taskType(s.type.name), encodeJson(typeInfo(s.type, now, s.pool)))));
  results.forEach((r, i) => {
    if (r.status !== 'rejected') return;
    if (strict) throw r.reason;
    log.warn('could not publish a task type', { taskType: served[i]!.type.name, err: r.reason });
  });
}

/** Names of the task types in KV `errand_types` (any worker's, live or not). */
export async function registeredTypeNames(nc: NatsConnection): Promise<string[]> {
  const kv = await new Kvm(nc).open(BUCKETS.types);
  const names: string[] = [];
  for await (const k of await kv.keys()) names.push(k);
  return names;
}

/** Core-NATS liveness beat: the attempts this worker runs, its types and slots. */
export function publishHeartbeat(nc: NatsConnection, hb: Heartbeat, log: Logger): void {
  try {
    nc.publish(subjects.heartbeat, encodeJson(hb));
  } catch (err) {
    log.debug('heartbeat not sent', { err });
  }
}
