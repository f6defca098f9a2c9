import { typeToken } from './tokens.ts';

/**
 * Every stream, bucket, subject and consumer name. Nothing outside this file
 * types one by hand.
 */
export const STREAMS = {
  events: 'ERRAND_EVENTS',
  work: 'ERRAND_WORK',
  notify: 'ERRAND_NOTIFY',
} as const;

export const BUCKETS = {
  /** task types published by workers: key = type name with dots as `_` ... see typeKey */
  types: 'errand_types',
  /** leader lease of the scheduler (bucket max age = lease length) */
  leader: 'errand_leader',
  /** idempotency keys: `<tenant>.<hash>` -> {taskId, bodyHash} */
  idempotency: 'errand_idempotency',
  /** encrypted target secrets: key = secretRef */
  secrets: 'errand_secrets',
  /** scheduler snapshots (object store) */
  snapshots: 'errand_snapshots',
  /** checkpoints and large results (object store) */
  blobs: 'errand_blobs',
  /** memory deliveries: `<tenant>.<user>.<taskId>` */
  memory: 'errand_memory',
} as const;

export const CONSUMERS = {
  /** the notifier's durable consumer on ERRAND_EVENTS (with one partition) */
  notifier: 'errand-notifier',
  /** the durable consumer of notifier partition `index` of `count` (`errand-notifier` when there is one) */
  notifierPartition: (index: number, count: number) => (count === 1 ? 'errand-notifier' : `errand-notifier-p${index}`),
  /**
   * Workers' durable consumer per pool and task type on ERRAND_WORK (filter:
   * `subjects.work(pool, type)`): a work message only reaches a worker that
   * serves its type. `type` is the type's name; its token is used.
   */
  worker: (pool: string, type: string) => `errand-worker-${pool}-${typeToken(type)}`,
} as const;

export const subjects = {
  /** the one subject of a task's events */
  event: (tenant: string, taskId: string) => `errand.events.${tenant}.${taskId}`,
  /** every event of a tenant */
  tenantEvents: (tenant: string) => `errand.events.${tenant}.*`,
  /** every event */
  allEvents: 'errand.events.>',
  /** dispatches of one task type to the workers of a pool that serve it */
  work: (pool: string, type: string) => `errand.work.${pool}.${typeToken(type)}`,
  allWork: 'errand.work.>',
  /** prefix every nats delivery target of a tenant must start with */
  notifyPrefix: (tenant: string) => `errand.notify.${tenant}.`,
  allNotify: 'errand.notify.>',
  /** request-reply API */
  api: (tenant: string, verb: ApiVerb) => `errand.api.${tenant}.${verb}`,
  apiWildcard: (verb: ApiVerb) => `errand.api.*.${verb}`,
  /** core NATS (not stored): worker liveness beats, one message per worker (see `Heartbeat`) */
  heartbeat: 'errand.internal.heartbeat',
  /** core NATS: a follower of the heartbeats that has just started asks every worker to beat now (no payload) */
  heartbeatRequest: 'errand.internal.heartbeat.request',
  /** core NATS request-reply answered by the scheduler leader: why tasks wait (`WaitingRequest` -> `WaitingReply`) */
  waiting: 'errand.internal.scheduler.waiting',
  /** core NATS: the history projector's note after each batch it wrote (`AppliedNote`, internal): intakes wake their waits and live lists */
  historyApplied: 'errand.internal.history.applied',
  /** core NATS: the scheduler leader's note of the decisions it has just written (`DecidedNote`, internal): intakes answer submits without waiting for the history store */
  decided: 'errand.internal.scheduler.decided',
} as const;

export const API_VERBS = ['submit', 'submit-batch', 'status', 'cancel', 'retry', 'list', 'history'] as const;
export type ApiVerb = (typeof API_VERBS)[number];

/** Parse `errand.events.<tenant>.<taskId>`. */
export function parseEventSubject(subject: string): { tenant: string; taskId: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'errand' || parts[1] !== 'events') return undefined;
  return { tenant: parts[2]!, taskId: parts[3]! };
}

/** The tenant of a request on `errand.api.<tenant>.<verb>` (undefined for another subject). */
export function apiSubjectTenant(subject: string): string | undefined {
  const parts = subject.split('.');
  return parts.length === 4 && parts[0] === 'errand' && parts[1] === 'api' ? parts[2] : undefined;
}

/** KV keys may not contain every character a type name may; dots are fine in KV keys. */
export const kvKeys = {
  taskType: (name: string) => name,
  idempotency: (tenant: string, keyHash: string) => `${tenant}.${keyHash}`,
  memory: (tenant: string, user: string, taskId: string) => `${tenant}.${user}.${taskId}`,
  memoryOfUser: (tenant: string, user: string) => `${tenant}.${user}.*`,
  leader: 'scheduler',
  /** the history projector's lease (one writer per PostgreSQL history store), in the leader bucket */
  projector: 'history-projector',
  /** the active notifier's lease, in the leader bucket */
  notifierLease: 'notifier',
  /** the lease of notifier partition `index` of `count`, in the leader bucket (`notifier` when there is one) */
  notifierPartitionLease: (index: number, count: number) => (count === 1 ? 'notifier' : `notifier-p${index}`),
  /** a live notifier's membership, in the leader bucket (refreshed with its leases) */
  notifierMember: (notifierId: string) => `notifier-member.${notifierId}`,
  /** every notifier's membership */
  notifierMembers: 'notifier-member.*',
  /** a target secret in `errand_secrets` (its ref): target `index` of a task */
  secret: (tenant: string, taskId: string, index: number) => `${tenant}.${taskId}.${index}`,
} as const;

/** Names of blobs in `errand_blobs` (INTERNALS.md "Checkpoints, results and partial results"). */
export const blobNames = {
  checkpoint: (tenant: string, taskId: string, attempt: number) => `cp/${tenant}/${taskId}/${attempt}`,
  checkpointPrefix: 'cp/',
  result: (tenant: string, taskId: string) => `result/${tenant}/${taskId}`,
} as const;

/**
 * The key of one task in in-memory maps of every service (`<tenant>/<taskId>`):
 * task ids are unique per tenant only.
 */
export function taskKey(tenant: string, taskId: string): string {
  return `${tenant}/${taskId}`;
}
