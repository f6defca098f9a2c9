import { NoRespondersError, RequestError, TimeoutError, type NatsConnection } from '@nats-io/nats-core';
import {
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  JetStreamApiError,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { STREAMS, BUCKETS, subjects } from '@errand/contracts';
import { ensureStream as ensureStreamOnce } from './consumers.ts';
import { isCreateRace } from './errors.ts';

const NS = 1_000_000;

export interface ProvisionOptions {
  /** how long ERRAND_NOTIFY keeps `nats` deliveries (default 7 days) */
  notifyMaxAgeMs?: number;
  /** the scheduler's leader lease (bucket max age, default 5 s) */
  leaseMs?: number;
  /** replicas of every stream and bucket (ERRAND_REPLICAS); durable consumers inherit their stream's */
  replicas?: number;
}

/** Worth asking again: no answer yet, or JetStream busy (a cluster electing a leader answers 503 or nothing). */
function transient(err: unknown): boolean {
  if (err instanceof TimeoutError || err instanceof NoRespondersError || err instanceof RequestError) return true;
  return err instanceof JetStreamApiError && err.status >= 500;
}

/** A few tries for a create that lost a race: a real conflict (someone else's stream on our subjects) is said soon. */
const RACES = 3;

/**
 * Run `step` again while it fails transiently, for up to `withinMs`. The
 * client's bucket create looks, then adds: services starting together race,
 * and the losers' adds are refused; their next try finds the bucket.
 */
export async function patiently<T>(step: () => Promise<T>, withinMs = 60_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  let races = 0;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await step();
    } catch (err) {
      const again = transient(err) || (isCreateRace(err) && ++races <= RACES);
      if (!again || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Create (or leave as they are) every stream and bucket Errand uses. Safe to
 * run from every service at every start, concurrently. On a cluster creating
 * a replicated stream can take longer than one API timeout while several
 * services race: each step is retried while it fails transiently.
 */
export async function provision(nc: NatsConnection, opts: ProvisionOptions = {}): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const ensureStream = (cfg: Partial<StreamConfig> & { name: string; subjects: string[] }) => patiently(() => ensureStreamOnce(jsm, cfg));
  const replicas = opts.replicas ?? 1;
  await ensureStream({
    name: STREAMS.events,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: 120_000 * NS,
    allow_direct: true,
    max_msg_size: 1024 * 1024,
    num_replicas: replicas,
  });
  await ensureStream({
    name: STREAMS.work,
    subjects: [subjects.allWork],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: 120_000 * NS,
    num_replicas: replicas,
  });
  await ensureStream({
    name: STREAMS.notify,
    subjects: [subjects.allNotify],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: (opts.notifyMaxAgeMs ?? 7 * 86_400_000) * NS,
    duplicate_window: 120_000 * NS,
    allow_direct: true,
    num_replicas: replicas,
  });
  const kvm = new Kvm(jetstream(nc, { timeout: 10_000 }));
  await patiently(() => kvm.create(BUCKETS.types, { history: 1, replicas }));
  await patiently(() => kvm.create(BUCKETS.leader, { history: 1, ttl: opts.leaseMs ?? 5_000, replicas }));
  await patiently(() => kvm.create(BUCKETS.idempotency, { history: 1, replicas }));
  await patiently(() => kvm.create(BUCKETS.secrets, { history: 1, replicas }));
  await patiently(() => kvm.create(BUCKETS.memory, { history: 1, replicas }));
  const objm = new Objm(jetstream(nc, { timeout: 10_000 }));
  await patiently(() => objm.create(BUCKETS.blobs, { replicas }));
  await patiently(() => objm.create(BUCKETS.snapshots, { replicas }));
}
