import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { subjects } from '@errand/contracts';

const decoder = new TextDecoder();
const TYPE_RE = /"type":"([a-z-]+)"/;

/** What the client saw of one task: when each event type first arrived (client clock), and the events when kept. */
export interface Seen {
  arrived: Map<string, number>;
  events?: Record<string, unknown>[];
}

/**
 * Watches `errand.events.<tenant>.*` over core NATS (one subscription) and
 * records, per task, the client-clock arrival of each event type.
 */
export class EventWatch {
  readonly tasks = new Map<string, Seen>();
  readonly counts = new Map<string, number>();
  lastArrival = new Map<string, number>();
  private readonly sub: Subscription;

  constructor(
    nc: NatsConnection,
    readonly tenant: string,
    private readonly keepEvents = false,
  ) {
    this.sub = nc.subscribe(subjects.tenantEvents(tenant), {
      callback: (err, msg) => {
        if (err) return;
        const t = performance.now();
        const id = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
        const text = decoder.decode(msg.data);
        const type = TYPE_RE.exec(text)?.[1] ?? 'unknown';
        this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
        this.lastArrival.set(type, t);
        let s = this.tasks.get(id);
        if (!s) {
          s = { arrived: new Map() };
          this.tasks.set(id, s);
        }
        if (!s.arrived.has(type)) s.arrived.set(type, t);
        if (this.keepEvents) (s.events ??= []).push(JSON.parse(text) as Record<string, unknown>);
      },
    });
  }

  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  /** Tasks that have a given event type. */
  countTasks(ids: Iterable<string>, type: string): number {
    let n = 0;
    for (const id of ids) if (this.tasks.get(id)?.arrived.has(type)) n++;
    return n;
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}
