import type { NatsConnection } from '@nats-io/nats-core';
import { nuid } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { BUCKETS, CONSUMERS, STREAMS, kvKeys, parseEventSubject } from '@errand/contracts';
import type { Config } from '@errand/config';
import { createLogger, jsMsgParts, type EventLog, type Logger } from '@errand/nats';
import { parseAllowList } from '@errand/netguard';
import { SecretBox, SecretStore, loadSecretKey } from '@errand/secrets';
import { blobReader } from './blobs.ts';
import { mailerFrom } from './targets/mail.ts';
import { ensureNotifierConsumer } from './consumer.ts';
import type { TaskMemo } from './domain/memo.ts';
import { onEvent } from './handlers/event.ts';
import { taskKey, type HandlerDeps, type Item } from './handlers/deps.ts';
import { Lease } from './lease.ts';
import { KeyedQueues, Limiter, LruCache } from './queues.ts';
import { notifierSettings, type NotifierSettings } from './settings.ts';

export interface NotifierOptions {
  config: Config;
  nc: NatsConnection;
  log: EventLog;
  notifierId?: string;
  logger?: Logger;
  /** overrides of the environment's settings (tests use short schedules) */
  settings?: Partial<NotifierSettings>;
  now?: () => number;
  random?: () => number;
}

export interface Notifier {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** true while this replica holds the lease and delivers */
  readonly active: boolean;
  readonly id: string;
}

/**
 * The notifier: one active replica (KV lease, see lease.ts) consumes every
 * event in order, keeps a per-task queue, and delivers progress and final
 * messages to each task's targets. Never starts on import.
 */
export function buildNotifier(opts: NotifierOptions): Notifier {
  const { config, nc, log } = opts;
  const id = opts.notifierId ?? `notifier-${nuid.next()}`;
  const logger = opts.logger ?? createLogger('notifier', { notifierId: id });
  const settings: NotifierSettings = { ...notifierSettings(config), ...opts.settings };
  const js = jetstream(nc);
  const kvm = new Kvm(nc);
  let memoryKv: Promise<KV> | undefined;
  const held = new Set<JsMsg>();
  let abort = new AbortController();
  let iter: ConsumerMessages | undefined;
  let reading: Promise<void> = Promise.resolve();
  let keepAlive: NodeJS.Timeout | undefined;
  let lease: Lease | undefined;
  let catchUpSeq = Number.MAX_SAFE_INTEGER;

  const deps: HandlerDeps = {
    log,
    logger,
    settings,
    send: {
      allow: parseAllowList(config.webhookAllow),
      secrets: new SecretStore(nc, new SecretBox(loadSecretKey(config))),
      publisher: log.publisher,
      memoryKv: () => (memoryKv ??= kvm.open(BUCKETS.memory)),
      ...(config.ERRAND_SMTP_URL ? { mail: mailerFrom(config.ERRAND_SMTP_URL, config.ERRAND_EMAIL_FROM) } : {}),
      httpTimeoutMs: settings.httpTimeoutMs,
      now: opts.now ?? Date.now,
    },
    limiter: new Limiter(settings.sendConcurrency),
    memos: undefined as unknown as LruCache<TaskMemo>,
    loadPartial: blobReader(nc),
    signal: () => abort.signal,
    settle: (msg, how, delayMs) => {
      held.delete(msg);
      if (how === 'ack') msg.ack();
      else if (how === 'term') msg.term();
      else msg.nak(delayMs);
    },
    catchUpSeq: () => catchUpSeq,
    now: opts.now ?? Date.now,
    random: opts.random ?? Math.random,
  };
  const queues = new KeyedQueues<Item>((_key, item, waiting) => onEvent(deps, item, waiting));
  deps.memos = new LruCache<TaskMemo>(settings.cacheSize, (k) => queues.busy(k));

  // Tasks with no targets (most tasks of a busy system): their events are
  // acked as they come, without a fold or a queue. Bounded; a task that falls
  // out takes the ordinary path, which finds out the same from the log.
  const noTargets = new Set<string>();
  const NO_TARGETS_MAX = 100_000;

  function accept(m: JsMsg): void {
    const seen = log.decode(jsMsgParts(m));
    if (!seen || !parseEventSubject(m.subject)) {
      m.term(); // unreadable: logged by the log's decoder, never redelivered
      return;
    }
    const key = taskKey(seen.event.tenant, seen.event.taskId);
    if (seen.event.type === 'submitted' && seen.event.deliver.length === 0 && !queues.busy(key)) {
      noTargets.add(key);
      if (noTargets.size > NO_TARGETS_MAX) noTargets.delete(noTargets.values().next().value!);
      m.ack();
      return;
    }
    if (noTargets.has(key)) {
      m.ack();
      return;
    }
    held.add(m);
    queues.push(key, { msg: m, seen });
  }

  async function activate(): Promise<void> {
    abort = new AbortController();
    deps.memos.clear(); // another replica may have delivered while we stood by
    const jsm = await jetstreamManager(nc);
    catchUpSeq = (await jsm.streams.info(STREAMS.events)).state.last_seq;
    await ensureNotifierConsumer(jsm, settings);
    const consumer = await js.consumers.get(STREAMS.events, CONSUMERS.notifier);
    const messages = await consumer.consume({ max_messages: Math.min(1_000, settings.maxAckPending) });
    iter = messages;
    reading = (async () => {
      try {
        for await (const m of messages) accept(m);
      } catch (err) {
        logger.error('event consumer stopped', { error: (err as Error).message });
      }
    })();
    logger.info('delivering', { consumer: CONSUMERS.notifier });
  }

  /** Stop reading, let running handlers finish or give their events back (nak) for the next notifier. */
  async function deactivate(): Promise<void> {
    abort.abort();
    await iter?.close().catch(() => undefined);
    iter = undefined;
    await reading;
    await queues.idle();
    for (const m of held) m.nak();
    held.clear();
  }

  return {
    id,
    get active() {
      return lease?.leader ?? false;
    },
    async start() {
      const leaderKv = await kvm.open(BUCKETS.leader);
      const ttl = (await leaderKv.status()).ttl;
      if (!ttl) throw new Error(`bucket ${BUCKETS.leader} needs a max age (the lease length)`);
      // events wait unacked while they are delivered or retried: keep them ours
      keepAlive = setInterval(() => {
        for (const m of held) m.working();
      }, Math.max(250, Math.floor(settings.ackWaitMs / 3)));
      lease = new Lease(leaderKv, kvKeys.notifierLease, id, Math.max(100, Math.floor(ttl / 3)), (leader) => (leader ? activate() : deactivate()), logger);
      await lease.start();
    },
    async stop() {
      await lease?.stop(deactivate);
      clearInterval(keepAlive);
    },
  };
}
