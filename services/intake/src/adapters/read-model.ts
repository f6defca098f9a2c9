import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decidedNoteSchema, decodeJson, ErrandError, isTerminalState, subjects, taskKey, type LogSink, type TaskRecord, type TaskState } from '@errand/contracts';
import { retentionCutoff, type HistoryStore, type ListFilter, type ListPage, type TaskChange, type TypeMetrics } from '@errand/history';
import type { EventLog } from '@errand/nats';
import type { AppliedNote } from './projector.ts';

/** How often the applied sequence is read from the store when no note came (a lost note, another intake's projector). */
const POLL_MS = 200;

/** A task that changed, for live lists: its state before (undefined for a new task) and its record now. */
export interface LiveChange {
  before: { state: TaskState } | undefined;
  after: TaskRecord;
}

interface TaskWaiter {
  check: (r: TaskRecord | undefined) => boolean;
  resolve: (r: TaskRecord | undefined) => void;
}

/** The scheduler's decision on a new task, as a submit answers it. */
export type Decision = Pick<TaskRecord, 'id' | 'state' | 'position' | 'error'>;

/**
 * What the intake reads of the history store: tasks, lists and metrics, and
 * waits until the store has applied a given log sequence (read your writes)
 * or a task has changed as a request expects. The store is written by the
 * projector (in this process, which calls `applied`, or in another intake,
 * whose notes arrive on `subjects.historyApplied`); the applied sequence is
 * also polled, so a lost note only delays. Nothing here grows with the
 * number of tasks: waits and live listeners are per request.
 */
export class ReadModel {
  private seq = 0;
  private startTarget = Number.POSITIVE_INFINITY;
  private caughtUp = false;
  private localProjector = false;
  private readonly seqWaiters = new Set<{ seq: number; resolve: (ok: boolean) => void }>();
  private readonly taskWaiters = new Map<string, Set<TaskWaiter>>();
  /** submits waiting for their decision, by task key: answered by the scheduler's note or by the store, whichever comes first */
  private readonly decisionWaiters = new Map<string, Set<(d: Decision) => void>>();
  private decidedSub: Subscription | undefined;
  private readonly listeners = new Set<(c: LiveChange) => void>();
  private sub: Subscription | undefined;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  /** reads waiting for the store (status, results, MCP waits); a submit's wait for its decision is not one: the scheduler's note answers it */
  private readersWaiting = 0;
  private onReaderWaits: () => void = () => undefined;

  constructor(
    readonly store: HistoryStore,
    private readonly events: EventLog,
    private readonly nc: NatsConnection,
    private readonly o: { historyDays: number; log: LogSink },
  ) {}

  /** Whether a read waits for the store now: the projector then writes what comes without pausing. */
  get readerWaits(): boolean {
    return this.readersWaiting > 0;
  }

  /** Call `fn` when a read starts waiting for the store (the local projector cuts its pause short). */
  whenReaderWaits(fn: () => void): void {
    this.onReaderWaits = fn;
  }

  /** Count a read waiting for the store until the returned function is called. */
  private readerWaiting(): () => void {
    this.readersWaiting++;
    this.onReaderWaits();
    let ended = false;
    return () => {
      if (!ended) this.readersWaiting--;
      ended = true;
    };
  }

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  /** The last log sequence the store has applied, as this intake last heard. */
  appliedSeq(): number {
    return this.seq;
  }

  async start(): Promise<void> {
    this.startTarget = (await this.events.identity()).lastSeq;
    this.advance(await this.store.appliedSeq());
    this.sub = this.nc.subscribe(subjects.historyApplied, { callback: (err, m) => {
        if (!err) this.onNote(m.data);
      },
    });
    this.decidedSub = this.nc.subscribe(subjects.decided, {
      callback: (err, m) => {
        if (!err) this.onDecided(m.data);
      },
    });
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
  }

  async stop(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.sub?.unsubscribe();
    this.decidedSub?.unsubscribe();
    for (const w of this.seqWaiters) w.resolve(false);
    this.seqWaiters.clear();
    for (const set of [...this.taskWaiters.values()]) for (const w of [...set]) w.resolve(undefined);
    this.taskWaiters.clear();
    this.decisionWaiters.clear();
  }

  /** Whether the projector runs in this process (its changes come through `applied`, notes are then its own). */
  setLocalProjector(on: boolean): void {
    this.localProjector = on;
  }

  /** Called by this process's projector after each committed batch. */
  applied(changes: TaskChange[], seq: number): void {
    for (const c of changes) {
      const key = taskKey(c.after.tenant, c.after.id);
      const set = this.taskWaiters.get(key);
      if (set) {
        const now = { ...c.after };
        for (const w of [...set]) if (w.check(now)) w.resolve(now);
      }
      if (this.listeners.size) this.emit({ before: c.before ? { state: c.before.state } : undefined, after: { ...c.after } });
    }
    this.advance(seq);
  }

  /** The store was emptied for another log: its applied sequence starts again from 0. */
  storeReset(): void {
    this.seq = 0;
  }

  private onDecided(data: Uint8Array): void {
    if (this.decisionWaiters.size === 0) return;
    let parsed;
    try {
      parsed = decidedNoteSchema.safeParse(decodeJson(data));
    } catch {
      return;
    }
    if (!parsed.success) return;
    for (const d of parsed.data.d) {
      const ws = this.decisionWaiters.get(taskKey(d.t, d.i));
      if (!ws) continue;
      const decision: Decision =
        d.s === 'queued'
          ? { id: d.i, state: 'queued', ...(d.p !== undefined ? { position: d.p } : {}) }
          : { id: d.i, state: 'rejected', error: { code: d.c ?? 'rejected', message: d.m ?? 'the task was rejected' } };
      for (const w of [...ws]) w(decision);
    }
  }

  private onNote(data: Uint8Array): void {
    if (this.localProjector) return;
    let note: AppliedNote;
    try {
      note = decodeJson(data) as AppliedNote;
    } catch {
      return;
    }
    if (typeof note.seq !== 'number' || !Array.isArray(note.changes)) return;
    void this.onRemoteChanges(note).catch((err: unknown) => this.o.log.debug('reading changed tasks failed', { error: String(err) }));
  }

  private async onRemoteChanges(note: AppliedNote): Promise<void> {
    for (const c of note.changes) {
      const key = taskKey(c.t, c.i);
      const set = this.taskWaiters.get(key);
      const listening = this.listeners.size > 0;
      if (!set && !listening) continue;
      const r = await this.store.getTask(c.t, c.i);
      if (set) for (const w of [...set]) if (w.check(r)) w.resolve(r);
      if (listening && r) this.emit({ before: c.b ? { state: c.b } : undefined, after: r });
    }
    this.advance(note.seq);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const seq = await this.store.appliedSeq();
      if (seq > this.seq && !this.localProjector) {
        // the notes may have been lost: look at every waiting task again
        for (const [key, set] of [...this.taskWaiters]) {
          const slash = key.indexOf('/');
          const r = await this.store.getTask(key.slice(0, slash), key.slice(slash + 1));
          for (const w of [...set]) if (w.check(r)) w.resolve(r);
        }
      }
      if (seq < this.seq) this.seq = seq; // the store was emptied (another log): it says where it is
      this.advance(seq);
    } catch {
      // the store is unreachable now: readiness says so; the next poll tries again
    } finally {
      this.polling = false;
    }
  }

  private advance(seq: number): void {
    if (seq > this.seq) this.seq = seq;
    if (!this.caughtUp && this.seq >= this.startTarget) this.caughtUp = true;
    for (const w of [...this.seqWaiters]) if (this.seq >= w.seq) w.resolve(true);
  }

  /** Resolve true once the store has applied `seq`, false at the deadline. */
  waitApplied(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.seq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waited = this.readerWaiting();
      const w = {
        seq,
        resolve: (ok: boolean) => {
          clearTimeout(timer);
          this.seqWaiters.delete(w);
          waited();
          resolve(ok);
        },
      };
      const timer = setTimeout(() => w.resolve(this.seq >= seq), timeoutMs);
      this.seqWaiters.add(w);
    });
  }

  /** A task's record as the store has it (undefined when unknown or past the retention). */
  async get(tenant: string, id: string): Promise<TaskRecord | undefined> {
    return this.visible(await this.store.getTask(tenant, id));
  }

  /**
   * The task's record reflecting every event of it already in the log: asks
   * the log for the task's last sequence and waits until it is applied.
   * Not found (or another tenant's, or past the retention) is `not_found`.
   */
  async readYourWrites(tenant: string, id: string, timeoutMs = 2_000): Promise<TaskRecord> {
    const last = await this.events.lastSeq(tenant, id);
    if (last === 0) throw new ErrandError('not_found', `no task ${id}`);
    const ok = await this.waitApplied(last, timeoutMs);
    const r = await this.get(tenant, id);
    if (r && r.lastSeq >= last) return r;
    if (!ok) throw new ErrandError('unavailable', 'the history store is behind the event log; try again', { retryable: true });
    if (r) return r;
    throw new ErrandError('not_found', `no task ${id}`);
  }

  /**
   * Resolve with the task's record once `check` holds for it (checked each
   * time the store applies a change of the task), or with the record as it
   * is at the deadline. Register it before writing what it waits for.
   */
  waitForTask(tenant: string, id: string, check: (r: TaskRecord | undefined) => boolean, timeoutMs: number): Promise<TaskRecord | undefined> {
    // no decision note answers it: what it resolves with is a store record
    return this.waitOn(tenant, id, check, timeoutMs, { checkNow: true, notes: false }) as Promise<TaskRecord | undefined>;
  }

  /**
   * The scheduler's decision on a task whose `submitted` is about to be
   * written: from the scheduler's note (at once) or from the store (once it
   * has applied the decision), whichever comes first; at the deadline, the
   * record as the store has it (undefined: not there yet). Register it before
   * the append: there is nothing to read before it.
   */
  waitForDecision(tenant: string, id: string, timeoutMs: number): Promise<Decision | undefined> {
    return this.waitOn(tenant, id, (r) => !!r && r.state !== 'submitted', timeoutMs, { checkNow: false, notes: true });
  }

  /** One wait: woken by the store's changes of the task (and, with `notes`, by the scheduler's), or at the deadline. */
  private waitOn(
    tenant: string,
    id: string,
    check: (r: TaskRecord | undefined) => boolean,
    timeoutMs: number,
    o: { checkNow: boolean; notes: boolean },
  ): Promise<Decision | undefined> {
    const key = taskKey(tenant, id);
    return new Promise((resolve) => {
      let done = false;
      const waited = o.notes ? () => undefined : this.readerWaiting();
      const finish = (r: Decision | undefined) => {
        if (done) return;
        done = true;
        waited();
        clearTimeout(timer);
        leave(this.taskWaiters, key, w);
        if (o.notes) leave(this.decisionWaiters, key, finish);
        resolve(r);
      };
      const w: TaskWaiter = { check, resolve: finish };
      const timer = setTimeout(() => {
        void this.get(tenant, id)
          .catch(() => undefined)
          .then(finish);
      }, timeoutMs);
      join(this.taskWaiters, key, w);
      if (o.notes) join(this.decisionWaiters, key, finish);
      // it may hold already
      if (o.checkNow) {
        void this.get(tenant, id).then(
          (r) => {
            if (check(r)) finish(r);
          },
          () => undefined,
        );
      }
    });
  }

  /** Call `fn` for each task change the store applies (live lists); returns its removal. */
  onChange(fn: (c: LiveChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(c: LiveChange): void {
    for (const fn of this.listeners) fn(c);
  }

  async list(tenant: string, f: ListFilter): Promise<ListPage> {
    const page = await this.store.list(tenant, f);
    const cutoff = this.cutoff();
    return { items: page.items.filter((r) => !expired(r, cutoff)), nextCursor: page.nextCursor };
  }

  typeMetrics(tenant: string, type?: string): Promise<TypeMetrics[]> {
    return this.store.typeMetrics(tenant, type);
  }

  private cutoff(): number {
    return retentionCutoff(this.o.historyDays);
  }

  /** Past the retention a task is gone, even before the sweep has removed it. */
  private visible(r: TaskRecord | undefined): TaskRecord | undefined {
    return r && !expired(r, this.cutoff()) ? r : undefined;
  }
}

function expired(r: TaskRecord, cutoff: number): boolean {
  return isTerminalState(r.state) && r.finishedAt !== undefined && Date.parse(r.finishedAt) < cutoff;
}

/** Add `item` to the set under `key`. */
function join<T>(sets: Map<string, Set<T>>, key: string, item: T): void {
  let set = sets.get(key);
  if (!set) sets.set(key, (set = new Set()));
  set.add(item);
}

/** Remove `item` from the set under `key`, and the set once empty. */
function leave<T>(sets: Map<string, Set<T>>, key: string, item: T): void {
  const set = sets.get(key);
  if (!set) return;
  set.delete(item);
  if (set.size === 0) sets.delete(key);
}
