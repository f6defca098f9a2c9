import { blobNames, makeEvent, encodeJson, taskKey, type EventOf, type EventPayload, type WorkMessage } from '@errand/contracts';
import { isWrongLastSequence, type StoredEvent } from '@errand/nats';
import type { Context } from '@errand/telemetry';
import type { Logger } from '@errand/runtime';
import { catchUp } from '../domain/control.ts';
import { ProgressThrottle } from '../domain/throttle.ts';
import { EtaEstimator } from '../domain/eta.ts';
import { TaskAbortedError, type AbortKind } from '../errors.ts';
import type { WorkerDeps } from '../deps.ts';
import { encodeResult } from '../domain/result.ts';

type Terminal = 'completed' | 'failed' | 'cancelled' | 'timed-out';
interface Report {
  percent: number;
  message?: string;
  etaMs?: number;
}

const PROGRESS_INTERVAL_MS = 250;
/** Refusals of one write (someone else's harmless event came first each time) before it is given up. */
const MAX_CONFLICTS = 5;

/**
 * One running attempt of one task: its abort signal, its ordered writes
 * (a promise chain, so started < progress < checkpoint < terminal), the
 * progress throttle and ETA, and the rule that once the attempt has ended
 * (its terminal event written, or someone else's seen) nothing more is written.
 *
 * Every write is fenced: it expects the task subject's last sequence to be
 * `lastKnownSeq` (the attempt's `started`, then each of its own writes, and
 * whatever the control handler has judged since), so it is refused when
 * anyone else wrote on the task meanwhile. The attempt then reads what came,
 * judges it (`catchUp`) and writes again only if it still may
 * (INTERNALS.md "Control of a running task").
 */
export class RunningAttempt {
  private childLog: Logger | undefined;
  private readonly controller = new AbortController();
  private kind: AbortKind | undefined;
  private endedAs: false | 'written' | 'silenced' = false;
  private knownSeq = 0;
  private startedAtMs = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private lastCheckpointRef: string | undefined;
  private lastPercent: number | undefined;
  private progressCount = 0;
  private checkpointCount = 0;
  private throttle = new ProgressThrottle<Report>(PROGRESS_INTERVAL_MS);
  private eta: EtaEstimator;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    readonly work: WorkMessage,
    readonly trace: Context,
    readonly resumeRef: string | undefined,
  ) {
    this.lastCheckpointRef = resumeRef;
    this.eta = new EtaEstimator(resumeRef === undefined);
  }

  /** The attempt's logger, made on first use: most attempts log nothing, and a pino child costs a task's worth of CPU. */
  get log(): Logger {
    this.childLog ??= this.deps.log.child({ taskId: this.work.taskId, tenant: this.work.tenant, attempt: this.work.attempt });
    return this.childLog;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  /** why the signal fired, if it did */
  get abortKind(): AbortKind | undefined {
    return this.kind;
  }
  /**
   * 'written': this worker's terminal event is written (or queued to be);
   * 'silenced': someone else ended or superseded the attempt, nothing more is written
   */
  get ended(): false | 'written' | 'silenced' {
    return this.endedAs;
  }
  /**
   * The task subject's last sequence as this attempt knows it: every event up
   * to it has been judged (or is its own). The next write expects it.
   */
  get lastKnownSeq(): number {
    return this.knownSeq;
  }
  private knownUpTo(seq: number): void {
    this.knownSeq = Math.max(this.knownSeq, seq);
  }
  /** the attempt's `started` is stored at `seq` and the handler starts now (the ETA counts from here) */
  markStarted(nowMs: number, seq: number): void {
    this.startedAtMs = nowMs;
    this.knownUpTo(seq);
  }

  /**
   * Act on the events stored after `lastKnownSeq` (read by the caller from
   * there): cancel, or stop writing for good, as `catchUp` says; then know
   * the subject up to the last of them.
   */
  observe(after: readonly StoredEvent[]): void {
    if (this.endedAs === 'silenced') return;
    const d = catchUp(this.work.attempt, after, this.knownSeq);
    if (d.action.kind === 'superseded') {
      this.silence(d.action.why);
    } else if (d.action.kind === 'cancel' && !this.ended) {
      this.log.info('cancel requested; stopping the handler');
      this.endAborted('cancel', { discardPartial: d.action.discardPartial });
    }
    this.knownUpTo(d.lastSeq);
  }
  get taskKey(): string {
    return taskKey(this.work.tenant, this.work.taskId);
  }
  /** progress and checkpoints are written only while the attempt runs unaborted */
  private get live(): boolean {
    return !this.ended && !this.controller.signal.aborted;
  }

  /** Run `fn` after every write queued before it; its failure is logged, never thrown. */
  enqueue(what: string, fn: () => Promise<unknown>): Promise<void> {
    const next = this.chain.then(fn).then(
      () => undefined,
      (err: unknown) => this.log.warn(`could not write ${what}`, { err }),
    );
    this.chain = next;
    return next;
  }

  drained(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  /**
   * Write one event of the attempt, fenced on `lastKnownSeq`. Refused
   * (someone else wrote on the task): read what came, act on it, and write
   * again unless the attempt was superseded. Only ever called in the chain,
   * so no other write of the attempt is in flight meanwhile.
   */
  private async append<T extends 'progress' | 'checkpoint' | Terminal>(type: T, payload: EventPayload<T>, idExtra?: number) {
    const e = makeEvent(type, this.work, new Date(), payload) as EventOf<T>;
    for (let i = 0; i < MAX_CONFLICTS; i++) {
      if (this.ended === 'silenced') return undefined; // nothing after someone else's decisive event
      try {
        const ack = await this.deps.events.append(e, {
          trace: this.trace,
          expectLastSeq: this.knownSeq,
          ...(idExtra !== undefined ? { idExtra } : {}),
        });
        // a duplicate's sequence is the first copy's, maybe unknown ground: the next write finds out
        if (!ack.duplicate) this.knownUpTo(ack.seq);
        return ack;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
      const { tenant, taskId } = this.work;
      this.observe(await this.deps.events.history(tenant, taskId, this.knownSeq));
    }
    throw new Error(`the task kept changing while writing ${type} (${MAX_CONFLICTS} tries)`);
  }

  /** ctx.progress: throttled, with an ETA from the progress curve. */
  progress(percent: number, message?: string): void {
    if (!this.live || !Number.isFinite(percent)) return;
    const p = Math.min(100, Math.max(0, percent));
    this.lastPercent = p;
    const etaMs = this.eta.update(p, Date.now() - this.startedAtMs);
    const report: Report = { percent: p, ...(message !== undefined ? { message: message.slice(0, 1000) } : {}), ...(etaMs !== undefined ? { etaMs } : {}) };
    const offer = this.throttle.offer(report, Date.now());
    if ('emit' in offer) {
      this.writeProgress(offer.emit);
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        const due = this.live ? this.throttle.flush(Date.now()) : undefined;
        if (due) this.writeProgress(due);
      }, Math.max(0, offer.holdUntil - Date.now()));
    }
  }

  private writeProgress(r: Report): void {
    const n = ++this.progressCount;
    void this.enqueue('progress', () => this.append('progress', { attempt: this.work.attempt, ...r }, n));
  }

  /** ctx.checkpoint: store the value, then write the `checkpoint` event; resolves when both are done. */
  checkpoint(value: unknown): Promise<void> {
    if (!this.live) return Promise.resolve();
    const n = ++this.checkpointCount;
    const { tenant, taskId, attempt } = this.work;
    return this.enqueue('checkpoint', async () => {
      if (this.ended === 'silenced') return;
      const { ref, bytes } = await this.deps.blobs.putBytes(blobNames.checkpoint(tenant, taskId, attempt), encodeJson(value ?? null));
      this.lastCheckpointRef = ref;
      const percent = this.lastPercent;
      await this.append('checkpoint', { attempt, ref, bytes, ...(percent !== undefined ? { percent } : {}) }, n);
    });
  }

  /** Fire the handler's signal (once). */
  abortWith(kind: AbortKind, message: string): void {
    if (this.controller.signal.aborted) return;
    this.kind = kind;
    this.controller.abort(new TaskAbortedError(kind, message));
  }

  /**
   * Someone else ended or superseded this attempt: abort and write nothing
   * more, even a terminal event of its own still queued.
   */
  silence(why: string): void {
    if (this.endedAs === 'silenced') return;
    this.endedAs = 'silenced';
    this.log.info('attempt ended elsewhere; stopping the handler', { why });
    this.stopTimers();
    this.abortWith('superseded', why);
  }

  private flushProgress(): void {
    const held = this.throttle.flush(Date.now());
    if (held) this.writeProgress(held);
  }

  stopTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Abort for a cancel or timeout and write `cancelled` / `timed-out` with the last checkpoint as partial. */
  endAborted(kind: 'cancel' | 'timeout', opts: { discardPartial?: boolean } = {}): void {
    if (this.ended) return;
    this.endedAs = 'written';
    this.stopTimers();
    this.flushProgress();
    this.abortWith(kind, kind === 'cancel' ? 'cancel requested' : `time limit of ${this.work.timeoutMs} ms exceeded`);
    const attempt = this.work.attempt;
    void this.enqueue(kind === 'cancel' ? 'cancelled' : 'timed-out', () => {
      const partial = opts.discardPartial ? undefined : this.lastCheckpointRef;
      return kind === 'cancel'
        ? this.append('cancelled', { attempt, ...(partial ? { partial } : {}) })
        : this.append('timed-out', { attempt, timeoutMs: this.work.timeoutMs, ...(partial ? { partial } : {}) });
    });
  }

  /**
   * The handler returned. Written unless someone else ended the attempt; a
   * late result after this worker's own cancel/timeout is recorded too (the
   * fold fences it).
   */
  complete(result: unknown): void {
    if (this.ended === 'silenced') return;
    if (!this.ended) this.flushProgress();
    this.endedAs = 'written';
    this.stopTimers();
    const { tenant, taskId, attempt } = this.work;
    void this.enqueue('completed', async () => {
      const encoded = encodeResult(result, this.deps.config.ERRAND_MAX_RESULT_BYTES);
      if ('error' in encoded) {
        this.log.warn('result refused', { code: encoded.error.code, reason: encoded.error.message });
        await this.append('failed', { attempt, error: encoded.error, willRetry: false });
      } else if (encoded.data.length > this.deps.config.ERRAND_RESULT_INLINE_MAX) {
        const { ref } = await this.deps.blobs.putBytes(blobNames.result(tenant, taskId), encoded.data);
        await this.append('completed', { attempt, resultRef: ref });
      } else {
        await this.append('completed', { attempt, result: result ?? null });
      }
    });
  }

  /** The handler threw (and the attempt had not ended). */
  fail(error: { code: string; message: string }, willRetry: boolean): void {
    if (this.ended) return;
    this.endedAs = 'written';
    this.stopTimers();
    this.flushProgress();
    void this.enqueue('failed', () => this.append('failed', { attempt: this.work.attempt, error, willRetry }));
  }
}
