import type { Config } from '@errand/config';

/**
 * The notifier's knobs, read from the one configuration (`@errand/config`,
 * where each is parsed, checked and documented): the names its code uses.
 */
export interface NotifierSettings {
  /** ERRAND_PUBLIC_URL: base of the result links in messages */
  publicUrl: string;
  /** ERRAND_DELIVERY_SCHEDULE_MS: delays before each retry */
  schedule: number[];
  /** ERRAND_DELIVERY_TIMEOUT_MS: one HTTP try, connect to last byte */
  httpTimeoutMs: number;
  /** ERRAND_NOTIFIER_MAX_ACK_PENDING: the consumer's max_ack_pending */
  maxAckPending: number;
  /** ERRAND_NOTIFIER_ACK_WAIT_MS */
  ackWaitMs: number;
  /** ERRAND_NOTIFIER_CONCURRENCY: sends in flight at once, over all tasks */
  sendConcurrency: number;
  /** ERRAND_NOTIFIER_CACHE: task memos kept in memory */
  cacheSize: number;
  /** ERRAND_NOTIFIER_PARTITIONS: how many parts the tasks are split into */
  partitions: number;
}

export function notifierSettings(config: Config): NotifierSettings {
  return {
    publicUrl: config.publicUrl,
    schedule: config.deliverySchedule,
    httpTimeoutMs: config.ERRAND_DELIVERY_TIMEOUT_MS,
    maxAckPending: config.ERRAND_NOTIFIER_MAX_ACK_PENDING,
    ackWaitMs: config.ERRAND_NOTIFIER_ACK_WAIT_MS,
    sendConcurrency: config.ERRAND_NOTIFIER_CONCURRENCY,
    cacheSize: config.ERRAND_NOTIFIER_CACHE,
    partitions: config.ERRAND_NOTIFIER_PARTITIONS,
  };
}
