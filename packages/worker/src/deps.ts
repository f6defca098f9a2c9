import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '@errand/config';
import type { EventLog } from '@errand/nats';
import type { Logger } from '@errand/runtime';
import type { Blobs } from '@errand/nats';
import type { AnyTaskType } from './registry.ts';

/** What the worker's parts share. */
export interface WorkerDeps {
  config: Config;
  nc: NatsConnection;
  events: EventLog;
  blobs: Blobs;
  log: Logger;
  workerId: string;
  registry: Map<string, AnyTaskType>;
  /** how long an aborted handler may take to settle before its slot is given back */
  abortGraceMs: number;
}
