import type { NatsConnection } from '@nats-io/transport-node';
import { nuid } from '@nats-io/transport-node';
import type { Config } from '@errand/config';
import { Blobs, EventLog } from '@errand/nats';
import { type Logger } from '@errand/runtime';
import type { Limits } from './domain/decide.ts';
import { LeaderLease } from './handlers/leader.ts';
import { watchTaskTypes } from './handlers/types.ts';
import { SchedulerRuntime } from './runtime.ts';
import { SnapshotStore } from './handlers/snapshots.ts';
import { Janitor } from './handlers/janitor.ts';

export function limitsFrom(config: Config): Limits {
  return {
    concurrency: config.ERRAND_CONCURRENCY,
    maxPendingPerUser: config.ERRAND_MAX_PENDING_PER_USER,
    ...(config.ERRAND_TENANT_CONCURRENCY ? { tenantConcurrency: config.ERRAND_TENANT_CONCURRENCY } : {}),
    typeConcurrency: config.typeConcurrency,
    leaseMs: config.ERRAND_LEASE_MS,
    cancelGraceMs: config.ERRAND_CANCEL_GRACE_MS,
    timeoutSlackMs: 2_000,
    retryBaseMs: config.ERRAND_RETRY_BASE_MS,
    retryMaxMs: config.ERRAND_RETRY_MAX_MS,
    defaultMaxAttempts: 3,
  };
}

export interface Scheduler {
  runtime: SchedulerRuntime;
  lease: LeaderLease;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Build a scheduler: it follows the log at once and decides while it holds the leader lease. */
export async function buildScheduler(deps: { config: Config; nc: NatsConnection; log: Logger; id?: string }): Promise<Scheduler> {
  const { config, nc, log } = deps;
  const id = deps.id ?? `scheduler-${nuid.next()}`;
  const eventLog = new EventLog(nc, (i) => log.warn('skipping an invalid event', i));
  // the types watch is set up first; it kicks the runtime once that exists
  const kicker = { kick: (): void => undefined };
  const types = await watchTaskTypes(nc, log, () => kicker.kick());
  const snapshots = new SnapshotStore(nc, log);
  const runtime = new SchedulerRuntime(nc, eventLog, log, limitsFrom(config), types.types, snapshots, config.ERRAND_SNAPSHOT_EVERY, new Janitor(new Blobs(nc), log, config.ERRAND_PARTIAL_RETENTION_MS));
  const rt = runtime;
  kicker.kick = () => rt.kick();
  const lease = new LeaderLease(nc, id, log, (leader) => rt.onLeadership(leader));
  return {
    runtime: rt,
    lease,
    async start() {
      await rt.start();
      await lease.start();
    },
    async stop() {
      await lease.stop();
      await rt.stop();
      types.stop();
      eventLog.close();
    },
  };
}
