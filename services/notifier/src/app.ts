import type { NatsConnection } from '@nats-io/nats-core';
import { nuid } from '@nats-io/nats-core';
import { Kvm, type KV } from '@nats-io/kv';
import { BUCKETS, CONSUMERS, kvKeys } from '@errand/contracts';
import type { Config } from '@errand/config';
import { JetStreamPublisher, type EventLog } from '@errand/nats';
import { createLogger, type Logger } from '@errand/runtime';
import { parseAllowList } from '@errand/netguard';
import { SecretBox, SecretStore, loadSecretKey } from '@errand/secrets';
import { blobReader } from './adapters/blobs.ts';
import { mailerFrom } from './targets/mail.ts';
import { fairShare } from './domain/partition.ts';
import { KvLease } from '@errand/lease';
import { Partition, type Shared } from './partition.ts';
import { Limiter } from './adapters/queues.ts';
import { notifierSettings, type NotifierSettings } from './domain/settings.ts';

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
  /** true while this replica holds a lease and delivers */
  readonly active: boolean;
  /** the partitions this replica delivers for now */
  partitions(): number[];
  readonly id: string;
}

/**
 * The notifier. The tasks are split into partitions (one by default); each
 * partition is held by one notifier at a time (a KV lease, `KvLease` of @errand/lease),
 * which reads the events, keeps a queue per task, and delivers progress and
 * final messages to each task's targets. Notifiers register as members and
 * hold at most an even share of the partitions, so several share the work;
 * one that dies leaves its partitions to the others when its leases run out.
 * Never starts on import.
 */
export function buildNotifier(opts: NotifierOptions): Notifier {
  const { config, nc, log } = opts;
  const id = opts.notifierId ?? `notifier-${nuid.next()}`;
  const logger = opts.logger ?? createLogger('notifier', { notifierId: id });
  const settings: NotifierSettings = { ...notifierSettings(config), ...opts.settings };
  const kvm = new Kvm(nc);
  let memoryKv: Promise<KV> | undefined;
  // nats targets publish to ERRAND_NOTIFY through the notifier's own publisher
  const publisher = new JetStreamPublisher(nc);
  const shared: Shared = {
    nc,
    log,
    logger,
    settings,
    send: {
      allow: parseAllowList(config.webhookAllow),
      secrets: new SecretStore(nc, new SecretBox(loadSecretKey(config))),
      publisher,
      memoryKv: () => (memoryKv ??= kvm.open(BUCKETS.memory)),
      ...(config.ERRAND_SMTP_URL ? { mail: mailerFrom(config.ERRAND_SMTP_URL, config.ERRAND_EMAIL_FROM) } : {}),
      httpTimeoutMs: settings.httpTimeoutMs,
      now: opts.now ?? Date.now,
    },
    limiter: new Limiter(settings.sendConcurrency),
    loadPartial: blobReader(nc),
    now: opts.now ?? Date.now,
    random: opts.random ?? Math.random,
  };
  const count = settings.partitions;
  // one partition keeps the names of a single active notifier (contracts' names)
  const parts = Array.from(
    { length: count },
    (_, i) => new Partition(i, count, CONSUMERS.notifierPartition(i, count), shared),
  );
  const memberKey = kvKeys.notifierMember(id);
  let leases: KvLease[] = [];
  let members = 1;
  let leaderKv: KV | undefined;
  let timers: NodeJS.Timeout[] = [];
  const heldCount = () => leases.filter((l) => l.held).length;

  /** Count the live notifiers, and hand over a partition when holding more than an even share. */
  async function balance(): Promise<void> {
    if (count === 1 || !leaderKv) return;
    await leaderKv.put(memberKey, new Date().toISOString());
    let n = 0;
    for await (const _ of await leaderKv.keys(kvKeys.notifierMembers)) n++;
    members = Math.max(1, n);
    const extra = heldCount() - fairShare(count, members);
    if (extra > 0) {
      const i = leases.map((l, idx) => (l.held ? idx : -1)).filter((idx) => idx >= 0).pop()!;
      await leases[i]!.release(() => parts[i]!.deactivate());
    }
  }

  return {
    id,
    get active() {
      return leases.some((l) => l.held);
    },
    partitions: () => leases.map((l, i) => (l.held ? i : -1)).filter((i) => i >= 0),
    async start() {
      leaderKv = await kvm.open(BUCKETS.leader);
      const ttl = (await leaderKv.status()).ttl;
      if (!ttl) throw new Error(`bucket ${BUCKETS.leader} needs a max age (the lease length)`);
      const renewMs = Math.max(100, Math.floor(ttl / 3));
      // events wait unacked while they are delivered or retried: keep them ours
      timers.push(
        setInterval(() => {
          for (const p of parts) p.keepAlive();
        }, Math.max(250, Math.floor(settings.ackWaitMs / 3))),
      );
      await balance();
      leases = parts.map(
        (p, i) =>
          new KvLease({
            kv: leaderKv!,
            key: kvKeys.notifierPartitionLease(i, count),
            holder: id,
            renewMs,
            onChange: (held) => (held ? p.activate() : p.deactivate()),
            log: logger,
            mayTake: () => heldCount() < fairShare(count, members),
          }),
      );
      for (const l of leases) await l.start();
      if (count > 1) {
        timers.push(setInterval(() => void balance().catch((err: unknown) => logger.warn('notifier balance failed', { error: (err as Error).message })), renewMs));
      }
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      timers = [];
      for (const [i, l] of leases.entries()) await l.stop({ beforeRelease: () => parts[i]!.deactivate() });
      if (count > 1) await leaderKv?.delete(memberKey).catch(() => undefined);
      publisher.close();
    },
  };
}
