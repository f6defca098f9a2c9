import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { evolveTask, isTerminalState, type TaskRecord, type WaitingOn } from '@errand/contracts';
import type { TypeCatalog } from '@errand/catalog';
import { EventLog, JetStreamPublisher, isWrongLastSequence, recordLogReset, type StoredEvent } from '@errand/nats';
import { type Logger } from '@errand/runtime';
import { traceparentOf, inSpan, TelemetryAttributes } from '@errand/telemetry';
import { decide, type Command, type DecideInput, type Limits } from './domain/decide.ts';
import { explain } from './domain/explain.ts';
import { beat, evolve, initialState, restoreTask, taskKey, type SchedState } from './domain/state.ts';
import { restoreSnapshot } from './domain/snapshot.ts';
import type { SnapshotStore } from './adapters/snapshots.ts';
import { isLiveRecord, type Janitor } from './adapters/janitor.ts';
import { buildWorkMessage, WorkSender } from './adapters/work.ts';
import { subscribeHeartbeats } from './handlers/heartbeats.ts';
import { answerWaiting } from './handlers/waiting.ts';
import { TaskTraces } from './adapters/traces.ts';
import { TaskParams } from './adapters/params.ts';
import { DecisionNotes } from './adapters/decided.ts';
import type { SchedTask } from './domain/task.ts';

/** What the runtime needs of the task-type catalog. */
export type Catalog = Pick<TypeCatalog, 'infoMap' | 'list' | 'onChange'>;

interface InFlight {
  cmd: Command;
  /** set when the write was acknowledged: the command is done once the fold reaches it */
  doneAtSeq?: number;
}

/**
 * The scheduler at run time: follows the log into its state, and while it is
 * the leader and caught up, turns `decide`'s commands into writes.
 */
export class SchedulerRuntime {
  state: SchedState = initialState();
  private lastSnapshotSeq = 0;
  private snapshotting = false;
  private readonly hydrating = new Set<string>();
  private readonly inflight = new Map<string, InFlight>();
  private readonly traces: TaskTraces;
  private readonly params: TaskParams;
  private readonly work: WorkSender;
  /** work messages go to ERRAND_WORK through the runtime's own publisher (the event log keeps its own inside) */
  private readonly publisher: JetStreamPublisher;
  private readonly notes: DecisionNotes;
  private caughtUp = false;
  private leader = false;
  private decideQueued = false;
  /** deadlines and leases are checked on the timer (O(running)), not on every event */
  private superviseDue = false;
  private ticker: NodeJS.Timeout | undefined;
  private stopFollow: (() => Promise<void>) | undefined;
  private hbSub: Subscription | undefined;
  private waitingSub: Subscription | undefined;
  private stopCatalog: (() => void) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: EventLog,
    private readonly logger: Logger,
    private readonly limits: Limits,
    private readonly catalog: Catalog,
    private readonly snapshots?: SnapshotStore,
    private readonly snapshotEvery = 50_000,
    private readonly janitor?: Janitor,
    private readonly now: () => number = Date.now,
  ) {
    this.publisher = new JetStreamPublisher(nc);
    this.work = new WorkSender(this.publisher, logger);
    this.traces = new TaskTraces(log);
    this.params = new TaskParams(log);
    this.notes = new DecisionNotes(nc, logger);
  }

  /** the sequence of the last snapshot written or restored */
  get snapshotSeq(): number {
    return this.lastSnapshotSeq;
  }

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  async start(): Promise<void> {
    let fromSeq = 1;
    const snap = await this.loadSnapshot();
    if (snap) {
      this.state = restoreSnapshot(snap, this.now());
      this.lastSnapshotSeq = snap.seq;
      fromSeq = snap.seq + 1;
      this.logger.info('restored a snapshot', { seq: snap.seq, tasks: snap.tasks.length });
    }
    // a type that appears or goes live or offline may change what can be dispatched
    this.stopCatalog = this.catalog.onChange(() => this.kick());
    this.hbSub = subscribeHeartbeats(this.nc, this.logger, (tenant, taskId, attempt) => beat(this.state, tenant, taskId, attempt, this.now()));
    const f = await this.log.follow({
      fromSeq,
      onEvent: (e) => this.apply(e),
      onCaughtUp: () => {
        this.caughtUp = true;
        this.logger.info('caught up with the log', { seq: this.state.seq, tasks: this.state.tasks.size });
        this.onLeadership(this.leader);
      },
    });
    this.stopFollow = f.stop;
    this.ticker = setInterval(() => {
      this.kick(true);
      this.maybeSnapshot();
      if (this.leader && this.caughtUp) {
        this.janitor?.maybeSweep(this.now(), (tenant, id) => isLiveRecord(this.state.tasks.get(taskKey(tenant, id))));
      }
    }, 200);
  }

  /** The last snapshot, unless it is ahead of the log: then the log was reset, and that is said loudly. */
  private async loadSnapshot() {
    const snap = await this.snapshots?.load();
    if (!snap) return undefined;
    const last = await this.log.logLastSeq();
    if (snap.seq <= last) return snap;
    const reason = `the scheduler's snapshot at sequence ${snap.seq} is ahead of the event log (last sequence ${last})`;
    recordLogReset({ at: new Date(this.now()).toISOString(), reason, lostTasks: snap.tasks.length });
    this.logger.error(`the event log was reset: ${snap.tasks.length} unfinished tasks of the snapshot are gone; starting afresh`, { reason, snapshotSeq: snap.seq, lastSeq: last });
    return undefined;
  }

  private apply(se: StoredEvent): void {
    const t = this.now();
    const key = taskKey(se.event.tenant, se.event.taskId);
    const before = this.state.tasks.get(key)?.state;
    // one key string for the state's indices and the runtime's own maps
    const r = evolve(this.state, se.event, se.seq, t, key);
    if (!r) {
      // a retry of a task forgotten since it ended: read its history back
      if (se.event.type === 'retry-requested') void this.hydrate(se.event.tenant, se.event.taskId);
      return;
    }
    if (se.event.type === 'submitted') {
      this.traces.submitted(key, se.headers?.get('traceparent'));
      this.params.submitted(key, se.event.params);
    }
    if (r.state !== 'submitted' && r.state !== 'queued' && r.state !== 'retrying') this.params.forget(key);
    const f = this.inflight.get(key);
    if (f?.doneAtSeq !== undefined && se.seq >= f.doneAtSeq) this.inflight.delete(key);
    if (isTerminalState(r.state)) {
      this.traces.ended(key);
      // only the leader cleans up, and not while replaying history
      if (before !== r.state && this.leader && this.caughtUp) this.janitor?.ended(r);
    }
    this.kick();
  }

  private async hydrate(tenant: string, taskId: string): Promise<void> {
    const key = taskKey(tenant, taskId);
    if (this.hydrating.has(key)) return;
    this.hydrating.add(key);
    try {
      const history = await this.log.history(tenant, taskId);
      let record: TaskRecord | undefined;
      for (const e of history) record = evolveTask(record, e.event, e.seq);
      if (record) {
        this.params.submitted(key, record.params);
        restoreTask(this.state, record, this.now());
      }
      this.kick();
    } catch (err) {
      this.logger.warn('could not reload a task for its retry', { taskId, error: (err as Error).message });
    } finally {
      this.hydrating.delete(key);
    }
  }

  private maybeSnapshot(): void {
    if (this.snapshotting || !this.caughtUp) return;
    if (this.state.seq - this.lastSnapshotSeq < this.snapshotEvery) return;
    if (!this.snapshots || !this.leader) return;
    this.snapshotting = true;
    this.snapshots
      .save(this.state)
      .then((seq) => {
        this.lastSnapshotSeq = seq;
      })
      .catch((err: unknown) => this.logger.warn('snapshot failed', { error: (err as Error).message }))
      .finally(() => {
        this.snapshotting = false;
      });
  }

  /** Leadership changed: a new leader gives running attempts a full lease and re-sends pending work. */
  onLeadership(leader: boolean): void {
    this.leader = leader;
    this.answerWaiting(leader && this.caughtUp);
    if (!leader || !this.caughtUp) return;
    const t = this.now();
    for (const key of this.state.active) {
      this.state.lastSeen.set(key, t);
      const r = this.state.tasks.get(key)!;
      if (r.state === 'dispatched' && r.dispatchSeq) void this.resend(key, r, r.dispatchSeq);
    }
    this.kick();
  }

  /** Send a dispatched attempt's work message again (a new leader does not know whether it was sent). */
  private async resend(key: string, r: SchedTask, dispatchSeq: number): Promise<void> {
    try {
      const params = await this.params.of(key, r.tenant, r.id);
      const info = this.catalog.infoMap().get(r.type);
      const tp = this.traces.known(key);
      const work = buildWorkMessage({ ...r, params }, r.attempt, dispatchSeq, info?.defaults.maxAttempts ?? this.limits.defaultMaxAttempts, tp ? { traceparent: tp } : {});
      this.work.later(key, r.pool ?? info?.pool ?? 'default', work);
      this.kick();
    } catch (err) {
      this.logger.warn('could not read a dispatched task back to send its work again', { taskId: r.id, error: (err as Error).message });
    }
  }

  /** Run `decide` soon (once per turn of the event loop, however many events came in). */
  kick(supervise = false): void {
    if (supervise) this.superviseDue = true;
    if (this.decideQueued) return;
    this.decideQueued = true;
    setImmediate(() => {
      this.decideQueued = false;
      const full = this.superviseDue;
      this.superviseDue = false;
      if (this.leader && this.caughtUp) this.step(full);
    });
  }

  /** The decision's input: the state as folded, the limits, the catalog's facts now. */
  private input(supervise: boolean): DecideInput {
    const live = new Set<string>();
    for (const e of this.catalog.list()) if (e.live) live.add(e.info.name);
    return { state: this.state, limits: this.limits, types: this.catalog.infoMap(), live, now: this.now(), inflight: this.inflight, random: Math.random, supervise };
  }

  /** Why these tasks wait (keyed by task id), from the input `decide` would get now. */
  explain(tasks: readonly { tenant: string; id: string }[]): Map<string, WaitingOn> {
    const found = explain(this.input(false), tasks.map((t) => taskKey(t.tenant, t.id)));
    return new Map([...found].map(([key, w]) => [key.slice(key.indexOf('/') + 1), w]));
  }

  private answerWaiting(on: boolean): void {
    if (on && !this.waitingSub) this.waitingSub = answerWaiting(this.nc, this.logger, (tasks) => this.explain(tasks));
    if (!on && this.waitingSub) {
      this.waitingSub.unsubscribe();
      this.waitingSub = undefined;
    }
  }

  private step(supervise: boolean): void {
    this.work.retry();
    const cmds = decide(this.input(supervise));
    for (const cmd of cmds) {
      this.inflight.set(cmd.key, { cmd });
      void this.execute(cmd);
    }
  }

  private async execute(cmd: Command): Promise<void> {
    const e = cmd.event;
    const name = cmd.kind === 'dispatch' ? 'errand.dispatch' : `errand.schedule ${e.type}`;
    const taskType = this.state.tasks.get(cmd.key)?.type;
    const attrs = {
      [TelemetryAttributes.TaskId]: e.taskId,
      [TelemetryAttributes.Tenant]: e.tenant,
      [TelemetryAttributes.Event]: e.type,
      ...(taskType ? { [TelemetryAttributes.TaskType]: taskType } : {}),
      ...('attempt' in e && typeof e.attempt === 'number' ? { [TelemetryAttributes.Attempt]: e.attempt } : {}),
    };
    try {
      const parent = await this.traces.of(cmd.key, e.tenant, e.taskId, () => {
        const r = this.state.tasks.get(cmd.key);
        return !!r && !isTerminalState(r.state);
      });
      // read before the write: once the dispatch is folded, the params are no longer kept
      const params = cmd.kind === 'dispatch' ? await this.params.of(cmd.key, e.tenant, e.taskId) : undefined;
      await inSpan(name, parent, attrs, async (_span, ctx) => {
        const ack = await this.log.append(cmd.event, { expectLastSeq: cmd.expectLastSeq, trace: ctx });
        this.notes.written(cmd.event, ack.seq);
        const f = this.inflight.get(cmd.key);
        if (f && f.cmd === cmd) {
          if (this.state.seq >= ack.seq) this.inflight.delete(cmd.key);
          else f.doneAtSeq = ack.seq;
        }
        if (cmd.kind === 'dispatch') {
          // the worker's attempt continues the trace as a child of this dispatch
          const work = buildWorkMessage({ ...cmd.record, params }, cmd.event.attempt, ack.seq, cmd.maxAttempts, traceparentOf(ctx));
          await this.work.send(cmd.key, cmd.event.pool, work);
        }
      });
    } catch (err) {
      const f = this.inflight.get(cmd.key);
      if (f?.cmd === cmd) this.inflight.delete(cmd.key);
      if (!isWrongLastSequence(err)) {
        this.logger.warn('a decision could not be written; it will be decided again', {
          taskId: cmd.event.taskId,
          type: cmd.event.type,
          error: (err as Error).message,
        });
      }
      // a refused dispatch left the queue as it was (decide takes nothing from it): decide again
      this.kick();
    }
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.hbSub?.unsubscribe();
    this.answerWaiting(false);
    this.stopCatalog?.();
    await this.stopFollow?.();
    this.publisher.close();
  }
}
