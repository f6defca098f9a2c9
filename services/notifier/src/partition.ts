import { observeGauge } from '@errand/telemetry';
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS, parseEventSubject } from '@errand/contracts';
import type { EventLog } from '@errand/nats';
import { type Logger } from '@errand/runtime';
import { ensureNotifierConsumer } from './consumer.ts';
import type { TaskMemo } from './domain/memo.ts';
import { partitionOf } from './domain/partition.ts';
import { onEvent } from './handlers/event.ts';
import { taskKey, type HandlerDeps, type Item } from './handlers/deps.ts';
import { KeyedQueues, LruCache, type Limiter } from './adapters/queues.ts';
import type { NotifierSettings } from './domain/settings.ts';
import type { SendDeps } from './targets/send.ts';

/** What every partition of one notifier shares. */
export interface Shared {
  nc: NatsConnection;
  log: EventLog;
  logger: Logger;
  settings: NotifierSettings;
  send: SendDeps;
  limiter: Limiter;
  loadPartial: (ref: string | undefined) => Promise<unknown>;
  now: () => number;
  random: () => number;
}

const NO_TARGETS_MAX = 100_000;
const decoder = new TextDecoder();

/** The body as JSON, or undefined when it is not JSON (the decoder then logs it). */
function parseBody(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch {
    return undefined;
  }
}

/** A `submitted` event with an empty `deliver[]`: nothing of its task will ever be delivered. */
function isSubmittedWithoutTargets(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const e = json as { type?: unknown; deliver?: unknown };
  return e.type === 'submitted' && Array.isArray(e.deliver) && e.deliver.length === 0;
}

/**
 * One partition of the work: the tasks whose id hashes to `index` of
 * `count`. While this notifier holds the partition's lease it reads every
 * event from the partition's durable consumer, acks at once the events of
 * other partitions and of tasks without targets, and delivers the rest in
 * order per task. With one partition (the default) that is every task.
 */
export class Partition {
  private readonly held = new Set<JsMsg>();
  private abort = new AbortController();
  private iter: ConsumerMessages | undefined;
  private reading: Promise<void> = Promise.resolve();
  private catchUpSeq = Number.MAX_SAFE_INTEGER;
  private readonly queues: KeyedQueues<Item>;
  private readonly deps: HandlerDeps;
  private readonly memos: LruCache<TaskMemo>;
  /** tasks with no targets (most tasks of a busy system): bounded, a task that falls out takes the ordinary path */
  private readonly noTargets = new Set<string>();
  active = false;
  /** the last message read: its delivery info counts the consumer's messages not yet delivered to us (the lag) */
  private last: JsMsg | undefined;
  private unobserve: (() => void)[] = [];

  constructor(
    readonly index: number,
    readonly count: number,
    readonly consumer: string,
    private readonly shared: Shared,
  ) {
    // the cache asks the queues whether a task is busy; the queues run the handlers that use the cache
    const queues = (): KeyedQueues<Item> => this.queues;
    this.memos = new LruCache<TaskMemo>(shared.settings.cacheSize, (k) => queues().busy(k));
    this.deps = {
      log: shared.log,
      logger: shared.logger,
      settings: shared.settings,
      send: shared.send,
      limiter: shared.limiter,
      memos: this.memos,
      loadPartial: shared.loadPartial,
      signal: () => this.abort.signal,
      settle: (msg, how, delayMs) => {
        this.held.delete(msg);
        if (how === 'ack') msg.ack();
        else if (how === 'term') msg.term();
        else msg.nak(delayMs);
      },
      catchUpSeq: () => this.catchUpSeq,
      now: shared.now,
      random: shared.random,
    };
    this.queues = new KeyedQueues<Item>((_key, item, waiting) => onEvent(this.deps, item, waiting));
  }

  /** Keep the events it holds ours while they are delivered or retried. */
  keepAlive(): void {
    for (const m of this.held) m.working();
  }

  /**
   * Most events are of tasks without targets: they are acked from their
   * subject alone, never parsed. A `submitted` is parsed (not validated) to
   * learn whether its task has targets; only the events that will be
   * delivered or folded are validated (zod), once.
   */
  private accept(m: JsMsg): void {
    // read when the gauge is observed: parsing each message's delivery info showed in the profile
    this.last = m;
    const at = parseEventSubject(m.subject);
    if (!at) {
      this.shared.logger.warn('message outside the event subjects: dropped', { subject: m.subject, seq: m.seq });
      m.term();
      return;
    }
    if (this.count > 1 && partitionOf(at.taskId, this.count) !== this.index) {
      m.ack(); // another partition's task
      return;
    }
    const key = taskKey(at.tenant, at.taskId);
    if (this.noTargets.has(key)) {
      m.ack();
      return;
    }
    const json = parseBody(m.data);
    if (isSubmittedWithoutTargets(json) && !this.queues.busy(key)) {
      this.noTargets.add(key);
      if (this.noTargets.size > NO_TARGETS_MAX) this.noTargets.delete(this.noTargets.values().next().value!);
      m.ack();
      return;
    }
    const seen = this.shared.log.decode(m, json);
    if (!seen || taskKey(seen.event.tenant, seen.event.taskId) !== key) {
      if (seen) this.shared.logger.warn('event of another task than its subject says: dropped', { subject: m.subject, seq: m.seq });
      m.term(); // unreadable (logged by the log's decoder): never redelivered
      return;
    }
    this.held.add(m);
    this.queues.push(key, { msg: m, seen });
  }

  async activate(): Promise<void> {
    this.abort = new AbortController();
    this.last = undefined;
    this.deps.memos.clear(); // another replica may have delivered while we stood by
    const jsm = await jetstreamManager(this.shared.nc);
    this.catchUpSeq = (await jsm.streams.info(STREAMS.events)).state.last_seq;
    await ensureNotifierConsumer(jsm, { name: this.consumer, ...this.shared.settings });
    const consumer = await jetstream(this.shared.nc).consumers.get(STREAMS.events, this.consumer);
    // a callback, not an async iteration: no promise per message
    const messages = await consumer.consume({
      max_messages: Math.min(1_000, this.shared.settings.maxAckPending),
      callback: (m) => {
        try {
          this.accept(m);
        } catch (err) {
          this.shared.logger.error('event handling failed, will retry', { error: (err as Error).message, consumer: this.consumer, seq: m.seq });
          m.nak(2_000);
        }
      },
    });
    this.iter = messages;
    this.reading = messages.closed().then(
      (err) => {
        if (err) this.shared.logger.error('event consumer stopped', { error: err.message, consumer: this.consumer });
      },
      () => undefined,
    );
    this.active = true;
    const attrs = { consumer: this.consumer, partition: this.index };
    this.unobserve = [
      observeGauge('errand.consumer.lag', 'Events in the log this consumer has not read yet', '{event}', () => this.last?.info.pending ?? 0, attrs),
      observeGauge('errand.notifier.deliveries.in_flight', 'Events held while their deliveries are sent or retried', '{event}', () => this.held.size, attrs),
    ];
    this.shared.logger.info('delivering', { consumer: this.consumer, partition: this.index, partitions: this.count });
  }

  /** Stop reading, let running handlers finish or give their events back (nak) for the next notifier. */
  async deactivate(): Promise<void> {
    this.active = false;
    for (const stop of this.unobserve.splice(0)) stop();
    this.abort.abort();
    await this.iter?.close().catch(() => undefined);
    this.iter = undefined;
    await this.reading;
    await this.queues.idle();
    for (const m of this.held) m.nak();
    this.held.clear();
  }
}
