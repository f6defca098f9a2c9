import {
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';

/** True when `err` is JetStream's answer with this error code (`JetStreamApiCodes`). */
export function isJetStreamCode(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    if (isJetStreamCode(err, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw err;
  }
}

export interface EnsureConsumerOptions {
  /**
   * Settings updated in place when the existing consumer differs (only those
   * the server lets change: limits such as `max_ack_pending`, `ack_wait`).
   * Everything else of an existing consumer is left as it is.
   */
  update?: (keyof ConsumerConfig)[];
}

/**
 * Create a durable consumer, or keep it when it exists: the one way every
 * Errand process ensures a consumer. Safe when several processes race here at
 * start: a create that loses the race finds the winner's consumer.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  want: Partial<ConsumerConfig> & { durable_name: string },
  opts: EnsureConsumerOptions = {},
): Promise<ConsumerInfo> {
  const name = want.durable_name;
  let info = await consumerInfo(jsm, stream, name);
  if (!info) {
    try {
      return await jsm.consumers.add(stream, want);
    } catch (err) {
      // another process created it first (with a config of its own): use that one
      info = await consumerInfo(jsm, stream, name);
      if (!info) throw err;
    }
  }
  const changed: Partial<ConsumerConfig> = {};
  for (const key of opts.update ?? []) {
    if (want[key] !== undefined && info.config[key] !== want[key]) Object.assign(changed, { [key]: want[key] });
  }
  if (Object.keys(changed).length === 0) return info;
  return await jsm.consumers.update(stream, name, changed);
}

/**
 * Create a stream, or keep it when it exists, updating in place only the
 * settings that may change (`max_age`, `duplicate_window`, `allow_direct`, `num_replicas`);
 * retention and storage never change.
 */
export async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string; subjects: string[] }): Promise<StreamInfo> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(cfg.name);
  } catch (err) {
    if (!isJetStreamCode(err, JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      return await jsm.streams.add(cfg);
    } catch (addErr) {
      // another service created it first
      info = await jsm.streams.info(cfg.name).catch(() => {
        throw addErr;
      });
    }
  }
  const c = info.config;
  // a setting the caller leaves unset is not a change: comparing it would update at every start
  const differs = (k: 'max_age' | 'duplicate_window' | 'allow_direct' | 'num_replicas') => cfg[k] !== undefined && c[k] !== cfg[k];
  if (differs('max_age') || differs('duplicate_window') || differs('allow_direct') || differs('num_replicas')) {
    return await jsm.streams.update(cfg.name, {
      ...c,
      max_age: cfg.max_age ?? c.max_age,
      duplicate_window: cfg.duplicate_window ?? c.duplicate_window,
      allow_direct: cfg.allow_direct ?? c.allow_direct,
      num_replicas: cfg.num_replicas ?? c.num_replicas,
    });
  }
  return info;
}
