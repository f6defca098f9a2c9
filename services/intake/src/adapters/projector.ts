import type { NatsConnection } from '@nats-io/transport-node';
import { blobNames, subjects, type LogSink, type TaskState } from '@errand/contracts';
import { StaleProjectorError, retentionCutoff, type HistoryStore, type LogItem, type TaskChange } from '@errand/history';
import { publishNotes, type Blobs, type EventLog, type Following } from '@errand/nats';

/** A catch-up this long (events) is reported with its rate when it ends. */
const REPORT_CATCH_UP = 10_000;
const REPORT_EVERY_MS = 10_000;

/**
 * The note the projector publishes after each batch it wrote (core NATS,
 * `subjects.historyApplied`): the applied sequence, and each changed task
 * with its state before the batch (absent for a task new in it). Intakes
 * that do not project wake their waits and live lists with it; a lost note
 * only delays them until their next poll of the applied sequence.
 */
export interface AppliedNote {
  seq: number;
  changes: { t: string; i: string; b?: TaskState }[];
}

export interface ProjectorOptions {
  store: HistoryStore;
  events: EventLog;
  /** large results and checkpoints: an expired task's go with it */
  blobs: Blobs;
  nc: NatsConnection;
  log: LogSink;
  /** log messages per transaction at most */
  batch: number;
  /** at least this long from one batch's start to the next's, unless the last was full or a read waits */
  intervalMs: number;
  /** a read waits for the store: write what comes without pausing (see `hurry`) */
  readerWaits?: () => boolean;
  historyDays: number;
  sweepMs: number;
  /** after each batch is committed, in this process */
  onApplied: (changes: TaskChange[], seq: number) => void;
  /** after the store was emptied for another log (its applied sequence is 0 again) */
  onReset: () => void;
}

/**
 * The one writer of the history store: follows the log from the sequence the
 * store has applied, folds each batch in one transaction (which also moves
 * the applied sequence, fenced: a second writer's batch is refused with
 * StaleProjectorError), tells the intakes, and sweeps ended tasks older
 * than the retention from the store and the log. Anything going wrong ends
 * the follower; it starts again from the store's applied sequence, so a
 * crash between two batches loses nothing and folds nothing twice.
 */
export class Projector {
  private follower: Following | undefined;
  private expected = 0;
  private running = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly catchUp = { from: 0, at: 0, events: 0, reportedAt: 0 };
  private failures = 0;
  /** ends the pause between two batches early */
  private endPause: (() => void) | undefined;

  constructor(private readonly o: ProjectorOptions) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Bind the store to the log, follow it, and sweep now and then. Throws when the store cannot be reached. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.bind();
      await this.follow();
    } catch (err) {
      this.running = false;
      throw err;
    }
    this.sweepTimer = setInterval(() => void this.sweep(), this.o.sweepMs);
    this.sweepTimer.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.endPause?.();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const f = this.follower;
    this.follower = undefined;
    await f?.stop();
    await this.sweeping;
  }

  /** The store belongs to one log: a new or wiped NATS store (a new stream) starts it afresh, and says so. */
  private async bind(): Promise<void> {
    const log = await this.o.events.identity();
    const mine = await this.o.store.logIdentity();
    if (mine === undefined) {
      this.o.log.info('the history store is new: projecting the event log into it', { store: this.o.store.where, events: log.lastSeq });
      await this.o.store.reset(log.created);
      this.o.onReset();
      return;
    }
    const applied = await this.o.store.appliedSeq();
    if (mine !== log.created || applied > log.lastSeq) {
      this.o.log.warn('the history store projected another event log (a new or wiped NATS store): starting it afresh from this one', {
        store: this.o.store.where,
        was: mine,
        now: log.created,
        appliedSeq: applied,
        logLastSeq: log.lastSeq,
      });
      await this.o.store.reset(log.created);
      this.o.onReset();
    }
  }

  private async follow(): Promise<void> {
    this.expected = await this.o.store.appliedSeq();
    const last = (await this.o.events.identity()).lastSeq;
    Object.assign(this.catchUp, { from: this.expected, at: Date.now(), events: Math.max(0, last - this.expected), reportedAt: Date.now() });
    if (this.catchUp.events >= REPORT_CATCH_UP) {
      this.o.log.info('projecting the event log into the history store', { from: this.expected + 1, to: last, events: this.catchUp.events });
    }
    this.follower = await this.o.events.followBatches({
      fromSeq: this.expected + 1,
      maxBatch: this.o.batch,
      name: 'intake-read-model',
      onBatch: (items, lag) => this.apply(items, lag),
      onEnd: (why) => this.restart(why),
    });
  }

  private async apply(batch: LogItem[], lag: number): Promise<void> {
    const items = batch.filter((i) => i.seq > this.expected);
    if (items.length === 0) return;
    const started = Date.now();
    const upTo = items[items.length - 1]!.seq;
    const changes = await this.o.store.apply(items, upTo, this.expected);
    this.expected = upTo;
    this.failures = 0;
    this.o.onApplied(changes, upTo);
    if (changes.length) this.publish(changes, upTo);
    this.report(upTo, lag);
    // a trickle of events would cost a transaction each: what comes within the interval is one
    // batch, unless a read waits for the store (a status, an MCP answer): then at once
    const rest = this.o.intervalMs - (Date.now() - started);
    if (rest > 0 && batch.length < this.o.batch && !this.o.readerWaits?.()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.endPause?.(), rest);
        this.endPause = () => {
          clearTimeout(timer);
          this.endPause = undefined;
          resolve();
        };
      });
    }
  }

  /** A read started waiting for the store: the pause between two batches ends now. */
  hurry(): void {
    this.endPause?.();
  }

  private publish(changes: TaskChange[], seq: number): void {
    const byTask = new Map<string, AppliedNote['changes'][number]>();
    for (const c of changes) {
      const k = `${c.after.tenant}/${c.after.id}`;
      if (byTask.has(k)) continue; // the state before the batch is the first change's
      byTask.set(k, { t: c.after.tenant, i: c.after.id, ...(c.before ? { b: c.before.state } : {}) });
    }
    try {
      publishNotes(this.o.nc, subjects.historyApplied, [...byTask.values()], (changes): AppliedNote => ({ seq, changes }));
    } catch {
      // the connection is down: intakes poll the applied sequence
    }
  }

  private report(seq: number, lag: number): void {
    const c = this.catchUp;
    if (c.events < REPORT_CATCH_UP) return;
    const now = Date.now();
    const done = seq - c.from;
    const rate = Math.round(done / Math.max(0.001, (now - c.at) / 1000));
    if (lag === 0) {
      this.o.log.info('the history store has caught up with the event log', { events: done, seconds: (now - c.at) / 1000, eventsPerSecond: rate });
      c.events = 0;
    } else if (now - c.reportedAt >= REPORT_EVERY_MS) {
      c.reportedAt = now;
      this.o.log.info('projecting the event log', { applied: seq, lag, eventsPerSecond: rate });
    }
  }

  private restart(why: unknown): void {
    this.follower = undefined;
    if (!this.running) return;
    if (why instanceof StaleProjectorError) this.o.log.warn('another projector wrote the history store first: reading on from what it applied');
    else this.o.log.warn('the history projector stopped; starting again from what the store applied', { error: why instanceof Error ? why.message : String(why) });
    this.failures++;
    const delay = Math.min(5_000, 100 * 2 ** Math.min(this.failures, 6));
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.bind()
        .then(() => this.follow())
        .catch((err: unknown) => this.restart(err));
    }, delay);
  }

  /** Remove ended tasks older than the retention from the store, then their events from the log and their blobs. */
  sweep(now = Date.now()): Promise<void> {
    this.sweeping ??= (async () => {
      const before = new Date(retentionCutoff(this.o.historyDays, now));
      let removed = 0;
      try {
        for (;;) {
          const gone = await this.o.store.expire(before, 500);
          for (const t of gone) {
            await this.o.events.purgeTask(t.tenant, t.id);
            if (t.resultBlob) await this.o.blobs.delete(blobNames.result(t.tenant, t.id));
            if (t.checkpointAttempts > 0) await this.o.blobs.deleteCheckpoints(t.tenant, t.id, t.checkpointAttempts);
          }
          removed += gone.length;
          if (gone.length < 500 || !this.running) break;
        }
        if (removed) this.o.log.info('removed tasks past the history retention from the store and the log', { tasks: removed, endedBefore: before.toISOString() });
      } catch (err) {
        this.o.log.warn('the history retention sweep failed; it runs again later', { error: err instanceof Error ? err.message : String(err), removed });
      }
    })().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }
}
