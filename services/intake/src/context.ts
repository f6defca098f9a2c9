import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import type { Config } from '@errand/config';
import type { Blobs, EventLog, Logger } from '@errand/nats';
import type { SecretStore } from '@errand/secrets';
import type { AllowList } from '@errand/netguard';
import type { ReadModel } from './handlers/events.ts';
import type { TypeCatalog } from './handlers/types.ts';
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
  types: TypeCatalog;
  params: ParamsValidator;
  secrets: SecretStore;
  allow: AllowList;
  /** the `/metrics` registry, counted in the read model's fold */
  metrics: PromMetrics;
  /** live workers from their heartbeats */
  workers: WorkerBeats;
  /** opened by `start()` */
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
