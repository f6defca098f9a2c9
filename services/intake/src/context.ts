import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import type { Config } from '@errand/config';
import type { Blobs, EventLog } from '@errand/nats';
import type { Logger } from '@errand/runtime';
import type { SecretStore } from '@errand/secrets';
import type { AllowList } from '@errand/netguard';
import type { ReadModel } from './adapters/read-model.ts';
import type { TypeCatalog } from '@errand/catalog';
import type { ParamsValidator } from './ops/params.ts';
import type { PromMetrics } from './adapters/prometheus.ts';
import type { WorkerBeats } from './adapters/workers.ts';

/** Everything the operations need, built once by `buildIntake`. */
export interface IntakeContext {
  config: Config;
  nc: NatsConnection;
  log: Logger;
  events: EventLog;
  readModel: ReadModel;
  /** the task types, their liveness and their workers (@errand/catalog) */
  types: TypeCatalog;
  params: ParamsValidator;
  secrets: SecretStore;
  allow: AllowList;
  /** the `/metrics` registry, counted in the read model's fold */
  metrics: PromMetrics;
  /** live workers from their heartbeats (per pool, for the worker gauges) */
  workers: WorkerBeats;
  /** opened by `buildIntake` before the context exists */
  stores: Stores;
  /** false while the NATS connection is down */
  connection: { up: boolean };
}

export interface Stores {
  idempotency: KV;
  memory: KV;
  types: KV;
  blobs: Blobs;
}
