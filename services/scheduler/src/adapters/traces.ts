import type { EventLog } from '@errand/nats';
import { contextFromTraceparent, type Context } from '@errand/telemetry';

/**
 * Each live task's trace: the `traceparent` of its `submitted` event ('' when
 * it has none), as followed, or read back from the log for a task this
 * scheduler has not seen submitted (restored from a snapshot, or reloaded for
 * a retry).
 */
export class TaskTraces {
  private readonly byKey = new Map<string, string>();

  constructor(private readonly log: EventLog) {}

  submitted(key: string, traceparent: string | undefined): void {
    this.byKey.set(key, traceparent ?? '');
  }

  ended(key: string): void {
    this.byKey.delete(key);
  }

  /** The `traceparent` as known now, without reading the log. */
  known(key: string): string | undefined {
    return this.byKey.get(key) || undefined;
  }

  /** The task's trace context; `keep` says whether to remember what was read back (the task still lives). */
  async of(key: string, tenant: string, taskId: string, keep: () => boolean): Promise<Context> {
    let tp = this.byKey.get(key);
    if (tp === undefined) {
      const first = await this.log.first(tenant, taskId).catch(() => undefined);
      tp = first?.headers?.get('traceparent') ?? '';
      if (keep()) this.byKey.set(key, tp);
    }
    return contextFromTraceparent(tp || undefined);
  }
}
