import type { EventLog } from '@errand/nats';

/** How many tasks' params are kept for their dispatch; the others read them back from the log. */
export const HOT_PARAMS = 10_000;

/**
 * The params a work message carries. The scheduler's state does not keep them
 * (`domain/task.ts`): they stay in the task's `submitted` event, read back by
 * direct get when the task is dispatched. So that a task dispatched soon after
 * it was submitted (no backlog) costs no read, the params of up to
 * `HOT_PARAMS` tasks are kept from their `submitted` until their dispatch; a
 * task submitted while that many wait (a backlog) is read back instead.
 */
export class TaskParams {
  private readonly hot = new Map<string, unknown>();

  constructor(
    private readonly log: Pick<EventLog, 'first'>,
    private readonly max = HOT_PARAMS,
  ) {}

  get size(): number {
    return this.hot.size;
  }

  submitted(key: string, params: unknown): void {
    if (this.hot.size < this.max) this.hot.set(key, params);
  }

  /** The task was dispatched or ended: a later attempt reads its params back. */
  forget(key: string): void {
    this.hot.delete(key);
  }

  async of(key: string, tenant: string, taskId: string): Promise<unknown> {
    if (this.hot.has(key)) return this.hot.get(key);
    const first = await this.log.first(tenant, taskId);
    if (first?.event.type !== 'submitted') throw new Error(`the submitted event of task ${taskId} is not in the log`);
    return first.event.params;
  }
}
