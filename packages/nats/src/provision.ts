import type { NatsConnection } from '@nats-io/nats-core';
import {
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type StreamConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { STREAMS, BUCKETS, subjects } from '@errand/contracts';

const NS = 1_000_000;

export interface ProvisionOptions {
  /** how long ERRAND_NOTIFY keeps `nats` deliveries (default 7 days) */
  notifyMaxAgeMs?: number;
  /** the scheduler's leader lease (bucket max age, default 5 s) */
  leaseMs?: number;
  /** replicas of every stream and bucket (ERRAND_REPLICAS); durable consumers inherit their stream's */
  replicas?: number;
}

/** True when a JetStream API error says the stream does not exist (typed code 10059, not the message). */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string; subjects: string[] }) {
  try {
    const info = await jsm.streams.info(cfg.name);
    const c = info.config;
    // Only settings that may change in place are updated; retention and storage never change.
    if (c.max_age !== cfg.max_age || c.duplicate_window !== cfg.duplicate_window || c.allow_direct !== cfg.allow_direct) {
      await jsm.streams.update(cfg.name, { ...c, max_age: cfg.max_age ?? c.max_age, duplicate_window: cfg.duplicate_window ?? c.duplicate_window, allow_direct: cfg.allow_direct ?? c.allow_direct });
    }
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    await jsm.streams.add(cfg);
  }
}

/**
 * Create (or leave as they are) every stream and bucket Errand uses. Safe to
 * run from every service at every start, concurrently.
 */
export async function provision(nc: NatsConnection, opts: ProvisionOptions = {}): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const replicas = opts.replicas ?? 1;
  await ensureStream(jsm, {
    name: STREAMS.events,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: 120_000 * NS,
    allow_direct: true,
    max_msg_size: 1024 * 1024,
    num_replicas: replicas,
  });
  await ensureStream(jsm, {
    name: STREAMS.work,
    subjects: [subjects.allWork],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: 120_000 * NS,
    num_replicas: replicas,
  });
  await ensureStream(jsm, {
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
  const kvm = new Kvm(nc);
  await kvm.create(BUCKETS.types, { history: 1, replicas });
  await kvm.create(BUCKETS.leader, { history: 1, ttl: opts.leaseMs ?? 5_000, replicas });
  await kvm.create(BUCKETS.idempotency, { history: 1, replicas });
  await kvm.create(BUCKETS.secrets, { history: 1, replicas });
  await kvm.create(BUCKETS.memory, { history: 1, replicas });
  const objm = new Objm(nc);
  await objm.create(BUCKETS.blobs, { replicas });
  await objm.create(BUCKETS.snapshots, { replicas });
}
