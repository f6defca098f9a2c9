import { BUCKETS, STREAMS, isToken, kvKeys, subjects } from '@errand/contracts';

/** The services that connect to NATS, each with its own NATS user. */
export const SERVICES = ['intake', 'scheduler', 'worker', 'notifier'] as const;
export type ServiceRole = (typeof SERVICES)[number];

/** What one NATS user may publish and subscribe to (nats-server `permissions`). */
export interface Permissions {
  publish: string[];
  subscribe: string[];
  /** may answer requests it received (one reply each), wherever their reply subject is */
  allowResponses: boolean;
}

const kv = (bucket: string) => `KV_${bucket}`;
const obj = (bucket: string) => `OBJ_${bucket}`;

/** Every stream Errand creates: its own three, and the streams behind its buckets. */
export const ALL_STREAMS = [
  STREAMS.events,
  STREAMS.work,
  STREAMS.notify,
  ...[BUCKETS.types, BUCKETS.leader, BUCKETS.idempotency, BUCKETS.secrets, BUCKETS.memory].map(kv),
  ...[BUCKETS.blobs, BUCKETS.snapshots].map(obj),
];

/** Creating and checking a stream (every service provisions at start; create is idempotent). */
const provisionApi = (s: string) => [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`, `$JS.API.STREAM.UPDATE.${s}`];

/** Reading a stream: direct and stored-message gets, consumers (create, info, next, delete), acks, flow control. */
const readApi = (s: string) => [
  `$JS.API.STREAM.MSG.GET.${s}`,
  `$JS.API.DIRECT.GET.${s}`,
  `$JS.API.DIRECT.GET.${s}.>`,
  `$JS.API.CONSUMER.CREATE.${s}`,
  `$JS.API.CONSUMER.CREATE.${s}.>`,
  `$JS.API.CONSUMER.DURABLE.CREATE.${s}.>`,
  `$JS.API.CONSUMER.INFO.${s}.>`,
  `$JS.API.CONSUMER.DELETE.${s}.>`,
  `$JS.API.CONSUMER.MSG.NEXT.${s}.>`,
  `$JS.API.CONSUMER.NAMES.${s}`,
  `$JS.API.CONSUMER.LIST.${s}`,
  `$JS.ACK.${s}.>`,
  `$JS.FC.${s}.>`,
];

/** Removing messages (an object replaced or deleted, a checkpoint swept). */
const purgeApi = (s: string) => [`$JS.API.STREAM.PURGE.${s}`, `$JS.API.STREAM.MSG.DELETE.${s}`];

interface Needs {
  /** subjects it publishes to (stream subjects, KV and object keys, core subjects) */
  publish: string[];
  /** core subjects it subscribes to (beyond its own inbox) */
  subscribe: string[];
  read: string[];
  purge: string[];
}

/**
 * What each service does on NATS, worked out from its code: the subjects it
 * writes, the core subjects it listens to, the streams and buckets it reads,
 * and the streams it removes messages from.
 */
export const SERVICE_NEEDS: Record<ServiceRole, Needs> = {
  intake: {
    // submitted, cancel-requested, retry-requested; idempotency keys; encrypted target secrets; asks the scheduler why tasks wait;
    // the history projector's lease and its notes; retention's deletes of an expired task's blobs
    publish: [
      subjects.allEvents,
      `$KV.${BUCKETS.idempotency}.>`,
      `$KV.${BUCKETS.secrets}.>`,
      `$KV.${BUCKETS.leader}.${kvKeys.projector}`,
      `$O.${BUCKETS.blobs}.>`,
      subjects.waiting,
      subjects.heartbeatRequest,
      subjects.historyApplied,
    ],
    // the NATS API (a micro service: its discovery subjects too); the projector's notes; the scheduler's decisions
    subscribe: ['errand.api.>', '$SRV.>', subjects.historyApplied, subjects.decided],
    read: [STREAMS.events, kv(BUCKETS.types), kv(BUCKETS.idempotency), kv(BUCKETS.memory), kv(BUCKETS.leader), obj(BUCKETS.blobs)],
    // retention: an expired task's events leave the log, its large result and checkpoints the object store
    purge: [STREAMS.events, obj(BUCKETS.blobs)],
  },
  scheduler: {
    // decisions (and their notes to the intakes), dispatches, its leader lease, snapshots, the janitor's checkpoint sweep
    publish: [
      subjects.allEvents,
      subjects.allWork,
      `$KV.${BUCKETS.leader}.>`,
      `$O.${BUCKETS.snapshots}.>`,
      `$O.${BUCKETS.blobs}.>`,
      subjects.heartbeatRequest,
      subjects.decided,
    ],
    subscribe: [subjects.heartbeat, subjects.waiting],
    read: [STREAMS.events, STREAMS.work, kv(BUCKETS.leader), kv(BUCKETS.types), obj(BUCKETS.snapshots), obj(BUCKETS.blobs)],
    purge: [STREAMS.work, obj(BUCKETS.snapshots), obj(BUCKETS.blobs)],
  },
  worker: {
    // its attempts' events, its types, checkpoints and large results, liveness beats
    publish: [subjects.allEvents, `$KV.${BUCKETS.types}.>`, `$O.${BUCKETS.blobs}.>`, subjects.heartbeat],
    // a running task's control events (cancel); a catalog's request for a beat
    subscribe: [subjects.allEvents, subjects.heartbeatRequest],
    read: [STREAMS.work, STREAMS.events, kv(BUCKETS.types), obj(BUCKETS.blobs)],
    purge: [obj(BUCKETS.blobs)],
  },
  notifier: {
    // delivered / delivery-failed, nats deliveries, memory deliveries, partition leases
    publish: [subjects.allEvents, subjects.allNotify, `$KV.${BUCKETS.memory}.>`, `$KV.${BUCKETS.leader}.>`],
    subscribe: [],
    read: [STREAMS.events, STREAMS.notify, kv(BUCKETS.secrets), kv(BUCKETS.leader), kv(BUCKETS.memory), kv(BUCKETS.types), obj(BUCKETS.blobs)],
    purge: [],
  },
};

/**
 * The inbox prefix of a service's connection (`serviceInbox` in
 * `@errand/nats`: `_INBOX_` + its connection name), and the one the
 * pipelined publisher uses for its acks.
 */
export const serviceInboxes = (role: ServiceRole) => [`_INBOX_errand-${role}.>`, '_INBOX.errand.>'];

/** A service's permissions: what it needs, and nothing of another tenant's inbox. */
export function servicePermissions(role: ServiceRole): Permissions {
  const n = SERVICE_NEEDS[role];
  return {
    publish: [
      '$JS.API.INFO',
      '$JS.API.STREAM.NAMES',
      ...ALL_STREAMS.flatMap(provisionApi),
      ...n.read.flatMap(readApi),
      ...n.purge.flatMap(purgeApi),
      ...n.publish,
    ],
    subscribe: [...serviceInboxes(role), ...n.subscribe],
    allowResponses: true,
  };
}

/** Tenant names the generated configuration refuses: `errand` would share the services' publisher inbox. */
const RESERVED_TENANTS = new Set(['errand']);

/**
 * A tenant's client (DESIGN.md "Who may do what on NATS"): requests on its
 * own API, reads its own events and deliveries, replies come to its own
 * inbox (`inboxPrefix: _INBOX.<tenant>`); it publishes nothing else.
 */
export function tenantPermissions(tenant: string): Permissions {
  if (!isToken(tenant)) throw new Error(`"${tenant}" is not a valid tenant (1-64 characters of A-Z, a-z, 0-9, "_" or "-")`);
  if (RESERVED_TENANTS.has(tenant)) throw new Error(`"${tenant}" is a reserved name; choose another tenant name`);
  return {
    publish: [`errand.api.${tenant}.>`],
    subscribe: [`errand.events.${tenant}.>`, `errand.notify.${tenant}.>`, `_INBOX.${tenant}.>`],
    allowResponses: false,
  };
}
