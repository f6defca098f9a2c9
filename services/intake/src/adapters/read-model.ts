import type { EventLog } from '@errand/nats';
import { ErrandError, taskKey, type TaskRecord } from '@errand/contracts';
import { Projection } from '../domain/projection.ts';

interface Waiter {
  check: () => boolean;
  resolve: (ok: boolean) => void;
}

/**
 * Feeds the projection from the whole event log (`EventLog.follow`), and lets
 * requests wait until it has applied a given sequence (read your writes).
 */
export class ReadModel {
  readonly projection = new Projection();
  private caughtUp = false;
  private follower: { stop: () => Promise<void>; lastSeq: () => number } | undefined;
  private readonly waiters = new Set<Waiter>();
  /** waits on one task, checked only when an event of that task is applied */
  private readonly taskWaiters = new Map<string, Set<Waiter>>();
  private tick: NodeJS.Timeout | undefined;

  constructor(private readonly events: EventLog) {}

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  /** The last sequence folded, counting messages skipped as invalid. */
  appliedSeq(): number {
    return Math.max(this.projection.appliedSeq, this.follower?.lastSeq() ?? 0);
  }

  async start(): Promise<void> {
    this.follower = await this.events.follow({
      name: 'intake-read-model',
      onEvent: ({ event, seq }) => {
        this.projection.apply(event, seq);
        this.wakeTask(taskKey(event.tenant, event.taskId));
        this.wake();
      },
      onCaughtUp: () => {
        this.caughtUp = true;
        this.wake();
      },
    });
    // invalid messages are skipped without a callback; a slow tick re-checks waits on them
    this.tick = setInterval(() => this.wake(), 100);
    this.tick.unref();
  }

  async stop(): Promise<void> {
    if (this.tick) clearInterval(this.tick);
    for (const w of this.waiters) w.resolve(false);
    this.waiters.clear();
    for (const set of this.taskWaiters.values()) for (const w of set) w.resolve(false);
    this.taskWaiters.clear();
    await this.follower?.stop();
  }

  /** Resolve true once `check()` holds, false at the deadline. */
  waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = {
        check,
        resolve: (ok) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => w.resolve(check()), timeoutMs);
      this.waiters.add(w);
    });
  }

  /**
   * The task's record reflecting every event of it already in the log: asks
   * the log for the task's last sequence and waits until it is applied.
   * Not found (or another tenant's) is `not_found`.
   */
  async readYourWrites(tenant: string, id: string, timeoutMs = 2_000): Promise<TaskRecord> {
    const last = await this.events.lastSeq(tenant, id);
    if (last === 0) throw new ErrandError('not_found', `no task ${id}`);
    const ok = await this.waitUntil(() => this.appliedSeq() >= last, timeoutMs);
    const r = this.projection.get(tenant, id);
    if (r) return r;
    if (!ok) throw new ErrandError('unavailable', 'the read model is behind the event log; try again');
    throw new ErrandError('not_found', `no task ${id}`);
  }

  /**
   * Resolve with the task's record once `check` holds for it (checked each
   * time an event of the task is folded), or with the record as it is at the
   * deadline. Register it before writing what it waits for.
   */
  waitForTask(tenant: string, id: string, check: (r: TaskRecord | undefined) => boolean, timeoutMs: number): Promise<TaskRecord | undefined> {
    const key = taskKey(tenant, id);
    // a copy: records are folded in place, and the answer is the state that met the check
    const current = () => {
      const r = this.projection.get(tenant, id);
      return r ? { ...r } : undefined;
    };
    if (check(current())) return Promise.resolve(current());
    return new Promise((resolve) => {
      let set = this.taskWaiters.get(key);
      if (!set) this.taskWaiters.set(key, (set = new Set()));
      const w: Waiter = {
        check: () => check(current()),
        resolve: () => {
          clearTimeout(timer);
          set.delete(w);
          if (set.size === 0) this.taskWaiters.delete(key);
          resolve(current());
        },
      };
      const timer = setTimeout(() => w.resolve(false), timeoutMs);
      set.add(w);
    });
  }

  private wakeTask(key: string): void {
    const set = this.taskWaiters.get(key);
    if (!set) return;
    for (const w of [...set]) if (w.check()) w.resolve(true);
  }

  private wake(): void {
    for (const w of [...this.waiters]) if (w.check()) w.resolve(true);
  }
}
