import type { NatsConnection } from '@nats-io/transport-node';
import { nuid } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, kvKeys } from '@errand/contracts';
import type { Config } from '@errand/config';
import { TypeCatalog } from '@errand/catalog';
import { KvLease } from '@errand/lease';
import { Blobs, EventLog } from '@errand/nats';
import { type Logger } from '@errand/runtime';
import type { Limits } from './domain/decide.ts';
import { SchedulerRuntime } from './runtime.ts';
import { SnapshotStore } from './adapters/snapshots.ts';
import { Janitor } from './adapters/janitor.ts';

/** The scheduler's limits, every one from the config schema. */
export function limitsFrom(config: Config): Limits {
  return {
    concurrency: config.ERRAND_CONCURRENCY,
    maxPendingPerUser: config.ERRAND_MAX_PENDING_PER_USER,
    ...(config.ERRAND_TENANT_CONCURRENCY ? { tenantConcurrency: config.ERRAND_TENANT_CONCURRENCY } : {}),
    typeConcurrency: config.typeConcurrency,
    leaseMs: config.ERRAND_LEASE_MS,
    cancelGraceMs: config.ERRAND_CANCEL_GRACE_MS,
    timeoutSlackMs: config.ERRAND_TIMEOUT_SLACK_MS,
    retryBaseMs: config.ERRAND_RETRY_BASE_MS,
    retryMaxMs: config.ERRAND_RETRY_MAX_MS,
    defaultMaxAttempts: config.ERRAND_DEFAULT_MAX_ATTEMPTS,
  };
}

export interface Scheduler {
  runtime: SchedulerRuntime;
  lease: KvLease;
  catalog: TypeCatalog;
  start(): Promise<void>;
  stop(opts?: { release?: boolean }): Promise<void>;
}

/**
 * Build a scheduler: it follows the log at once and decides while it holds
 * the leader lease (KV `errand_leader`). Correctness never rests on the lease
 * alone: every decision is written with the task's expected last sequence,
 * so even two leaders cannot dispatch one attempt twice.
 */
export async function buildScheduler(deps: { config: Config; nc: NatsConnection; log: Logger; id?: string }): Promise<Scheduler> {
  const { config, nc, log } = deps;
  const id = deps.id ?? `scheduler-${nuid.next()}`;
  const eventLog = new EventLog(nc, (i) => log.warn('skipping an invalid event', i));
  const catalog = await TypeCatalog.open(nc, { leaseMs: config.ERRAND_LEASE_MS, log });
  const snapshots = new SnapshotStore(nc, log);
  const janitor = new Janitor(new Blobs(nc), log, config.ERRAND_PARTIAL_RETENTION_MS);
  const runtime = new SchedulerRuntime(nc, eventLog, log, limitsFrom(config), catalog, snapshots, config.ERRAND_SNAPSHOT_EVERY, janitor);
  const kv = await new Kvm(nc).open(BUCKETS.leader);
  const ttl = (await kv.status()).ttl;
  const lease = new KvLease({
    kv,
    key: kvKeys.leader,
    holder: id,
    // renew well within the bucket's max age (the lease length)
    renewMs: Math.max(100, Math.min(1_000, Math.floor((ttl || 3_000) / 3))),
    log: log.child({ schedulerId: id }),
    onChange: (leader) => runtime.onLeadership(leader),
  });
  return {
    runtime,
    lease,
    catalog,
    async start() {
      await runtime.start();
      await lease.start();
    },
    async stop(opts = {}) {
      await lease.stop({ release: opts.release ?? true });
      await runtime.stop();
      catalog.close();
      eventLog.close();
    },
  };
}
