import type { NatsConnection } from '@nats-io/transport-node';
import { subjects, type DecidedNote, type ErrandEvent } from '@errand/contracts';
import { publishNotes } from '@errand/nats';
import type { Logger } from '@errand/runtime';

/**
 * The leader's notes of the decisions it has written (`subjects.decided`):
 * every `queued` / `rejected` acknowledged within one turn of the event loop
 * goes out in one core message, so a submit is answered without waiting for
 * the history store. Fire and forget: the intake falls back to the store.
 */
export class DecisionNotes {
  private buf: DecidedNote['d'] = [];
  private scheduled = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** `e` is in the log at `seq`; other event types are not decisions and are ignored */
  written(e: ErrandEvent, seq: number): void {
    if (e.type === 'queued') this.buf.push({ t: e.tenant, i: e.taskId, s: 'queued', q: seq, p: e.position });
    else if (e.type === 'rejected') this.buf.push({ t: e.tenant, i: e.taskId, s: 'rejected', q: seq, c: e.code, m: e.message });
    else return;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.buf;
    this.buf = [];
    try {
      publishNotes(this.nc, subjects.decided, all, (d): DecidedNote => ({ d }));
    } catch (err) {
      // a closed connection: the submits waiting for these decisions read them from the store
      this.log.debug('a decision note was not sent', { error: (err as Error).message });
    }
  }
}
