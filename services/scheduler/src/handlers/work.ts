import { encodeJson, subjects, type TaskRecord, type WorkMessage } from '@errand/contracts';
import { publishWithRetry, type JetStreamPublisher, type Logger } from '@errand/nats';

/** The work message of one attempt (INTERNALS.md "Dispatch and start"). */
export function buildWorkMessage(
  r: Pick<TaskRecord, 'id' | 'tenant' | 'user' | 'type' | 'params' | 'timeoutMs' | 'checkpointRef'>,
  attempt: number,
  dispatchSeq: number,
  maxAttempts: number,
  trace: { traceparent?: string; tracestate?: string } = {},
): WorkMessage {
  return {
    taskId: r.id,
    tenant: r.tenant,
    user: r.user,
    taskType: r.type,
    params: r.params,
    attempt,
    maxAttempts,
    timeoutMs: r.timeoutMs,
    dispatchSeq,
    ...(r.checkpointRef ? { resume: r.checkpointRef } : {}),
    ...(trace.traceparent ? { traceparent: trace.traceparent } : {}),
    ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
  };
}

/**
 * Publishes work messages (msgID `work:<taskId>:<attempt>`, so a re-send is
 * stored once within the de-duplication window); one that cannot be sent yet
 * is kept and sent again on the next `retry`.
 */
export class WorkSender {
  private readonly unsent = new Map<string, { work: WorkMessage; pool: string }>();

  constructor(
    private readonly publisher: JetStreamPublisher,
    private readonly logger: Logger,
  ) {}

  /** Keep a work message to send on the next `retry` (a new leader re-sends what is dispatched). */
  later(key: string, pool: string, work: WorkMessage): void {
    this.unsent.set(key, { work, pool });
  }

  async send(key: string, pool: string, work: WorkMessage): Promise<void> {
    try {
      await publishWithRetry(this.publisher, subjects.work(pool, work.taskType), encodeJson(work), { msgID: `work:${work.taskId}:${work.attempt}` });
    } catch (err) {
      this.logger.warn('work message not sent yet; retrying', { taskId: work.taskId, error: (err as Error).message });
      this.later(key, pool, work);
    }
  }

  retry(): void {
    for (const [key, w] of this.unsent) {
      this.unsent.delete(key);
      void this.send(key, w.pool, w.work);
    }
  }
}
