import type { NatsConnection } from '@nats-io/transport-node';
import { headers as makeHeaders } from '@nats-io/transport-node';
import { encodeEvent, eventMsgId, subjects, type ErrandEvent } from '@errand/contracts';
import { JetStreamPublisher, type PubAck } from '@errand/nats';

/**
 * Writes events into ERRAND_EVENTS as fast as the publisher allows: many in
 * flight (bounded by `window`), each with its msgID like a service would.
 */
export class LogWriter {
  private readonly pub: JetStreamPublisher;
  private readonly inflight = new Set<Promise<PubAck>>();
  written = 0;
  failed = 0;
  lastError = '';

  constructor(
    nc: NatsConnection,
    private readonly window = 4_000,
  ) {
    this.pub = new JetStreamPublisher(nc, 30_000);
  }

  async write(e: ErrandEvent): Promise<void> {
    while (this.inflight.size >= this.window) await Promise.race(this.inflight);
    const h = makeHeaders();
    h.set('Nats-Msg-Id', eventMsgId(e as { type: string; taskId: string; attempt?: number }));
    const p = this.pub.publish(subjects.event(e.tenant, e.taskId), encodeEvent(e), { headers: h });
    this.inflight.add(p);
    p.then(
      () => {
        this.written++;
      },
      (err: unknown) => {
        this.failed++;
        this.lastError = (err as Error).message;
      },
    ).finally(() => this.inflight.delete(p));
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  close(): void {
    this.pub.close();
  }
}
