import type { Config } from '@errand/config';
import { parseSchedule } from './domain/retry.ts';

/** The notifier's own knobs (environment variables beyond DESIGN.md's table). */
export interface NotifierSettings {
  /** base of the result links in messages: ERRAND_PUBLIC_URL, default the intake on this machine */
  publicUrl: string;
  /** delays before each retry: ERRAND_DELIVERY_SCHEDULE_MS */
  schedule: number[];
  /** one HTTP try, connect to last byte */
  httpTimeoutMs: number;
  /**
   * The consumer's max_ack_pending. Events wait unacked while their deliveries
   * retry (bounded by the schedule, ~13 min by default); at this limit the
   * server stops sending events, which is the back-pressure we want, but set
   * well above the tasks one process can keep in flight.
   */
  maxAckPending: number;
  ackWaitMs: number;
  /** HTTP / NATS sends in flight at once, over all tasks */
  sendConcurrency: number;
  /** task memos kept in memory (least recently used ones go first) */
  cacheSize: number;
  /**
   * ERRAND_NOTIFIER_PARTITIONS: how many parts the tasks are split into, each
   * held by one notifier at a time, so several notifiers share the work. Each
   * partition reads every event (and acks the others' at once), so more
   * partitions cost reads: use about as many as notifiers run. 1 = one active
   * notifier, the others stand by.
   */
  partitions: number;
}

function num(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}, not "${raw}"`);
  return n;
}

export function notifierSettings(config: Pick<Config, 'PORT'>, env: NodeJS.ProcessEnv = process.env): NotifierSettings {
  return {
    publicUrl: (env.ERRAND_PUBLIC_URL || `http://127.0.0.1:${config.PORT}`).replace(/\/+$/, ''),
    schedule: parseSchedule(env.ERRAND_DELIVERY_SCHEDULE_MS),
    httpTimeoutMs: num(env, 'ERRAND_DELIVERY_TIMEOUT_MS', 15_000, 100),
    maxAckPending: num(env, 'ERRAND_NOTIFIER_MAX_ACK_PENDING', 10_000, 10),
    // a crashed notifier's events come back to the next one after this long (held events are kept alive with working())
    ackWaitMs: num(env, 'ERRAND_NOTIFIER_ACK_WAIT_MS', 10_000, 1_000),
    sendConcurrency: num(env, 'ERRAND_NOTIFIER_CONCURRENCY', 32, 1),
    cacheSize: num(env, 'ERRAND_NOTIFIER_CACHE', 10_000, 10),
    partitions: Math.min(64, num(env, 'ERRAND_NOTIFIER_PARTITIONS', 1, 1)),
  };
}
