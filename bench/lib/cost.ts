import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@errand/contracts';
import { waitFor } from '@errand/testing';
import { cpuSecondsOf } from './system.ts';
import { say, sleep } from './stats.ts';

/** The streams a task's messages are stored in and read from. */
const COUNTED = [STREAMS.events, STREAMS.work, STREAMS.notify] as const;

/** What one run cost: CPU of each process, messages stored and consumer deliveries, all per task. */
export interface RunCost {
  /** CPU seconds per 1,000 tasks, by process */
  cpuPer1000: Record<string, number>;
  /** messages stored per task, by stream, and their total */
  stored: Record<string, number>;
  storedTotal: number;
  /** messages the server delivered to consumers (durable and ordered) per task, by stream, and their total */
  reads: Record<string, number>;
  readsTotal: number;
  /** deliveries per task by consumer (`<stream>/<durable>`, ordered consumers summed as `<stream>/ordered`) */
  readers: Record<string, number>;
}

interface Mark {
  cpu: Record<string, number>;
  lastSeq: Map<string, number>;
  delivered: Map<string, number>;
}

/** `<stream>/<consumer>` → messages delivered so far (consumer_seq counts redeliveries too). */
async function deliveredCounts(jsm: JetStreamManager): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const stream of COUNTED) {
    // ordered consumers (the followers) have random names: told apart by name, shown together
    for await (const c of jsm.consumers.list(stream)) out.set(`${stream}/${c.config.durable_name ? c.name : `ordered:${c.name}`}`, c.delivered.consumer_seq);
  }
  return out;
}

async function lastSeqs(jsm: JetStreamManager): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const stream of COUNTED) m.set(stream, (await jsm.streams.info(stream)).state.last_seq);
  return m;
}

/**
 * Measures one run: `mark()` before it, `done(tasks)` after it. The CPU is read
 * after every consumer of the event log has read and settled everything, so a
 * follower still busy with the run's events (the notifier) is charged in full.
 */
export class CostMeter {
  private constructor(
    private readonly jsm: JetStreamManager,
    private readonly pids: Record<string, number>,
  ) {}

  static async open(nc: NatsConnection, pids: Record<string, number>): Promise<CostMeter> {
    return new CostMeter(await jetstreamManager(nc), pids);
  }

  private cpu(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  }

  async mark(): Promise<Mark> {
    return { cpu: this.cpu(), lastSeq: await lastSeqs(this.jsm), delivered: await deliveredCounts(this.jsm) };
  }

  /** Wait until no consumer of the three streams has messages pending or unacked; how long it took (s), undefined on timeout. */
  async settle(maxSeconds: number): Promise<number | undefined> {
    const t0 = performance.now();
    try {
      await waitFor(
        async () => {
          for (const stream of COUNTED) {
            for await (const c of this.jsm.consumers.list(stream)) {
              // a worker's work consumer keeps nothing pending once the run is over; its acks may lag a little
              if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
            }
          }
          return true;
        },
        { timeoutMs: Math.max(10, maxSeconds) * 1000, intervalMs: 100, what: 'every consumer to read and settle the run' },
      );
    } catch (err) {
      say(`errand: ${(err as Error).message}`);
      return undefined;
    }
    return (performance.now() - t0) / 1000;
  }

  async done(before: Mark, tasks: number): Promise<RunCost> {
    await sleep(300); // trailing writes and acks
    const after = await this.mark();
    const per = (x: number) => x / Math.max(1, tasks);
    const cpuPer1000: Record<string, number> = {};
    for (const [k, v] of Object.entries(after.cpu)) cpuPer1000[k] = (1000 * (v - (before.cpu[k] ?? 0))) / Math.max(1, tasks);
    const stored: Record<string, number> = {};
    for (const [s, seq] of after.lastSeq) stored[s] = per(seq - (before.lastSeq.get(s) ?? 0));
    const reads: Record<string, number> = Object.fromEntries(COUNTED.map((s) => [s, 0]));
    const readers: Record<string, number> = {};
    for (const [key, n] of after.delivered) {
      // a consumer made during the run counts from 0
      const d = per(n - (before.delivered.get(key) ?? 0));
      const stream = key.slice(0, key.indexOf('/'));
      reads[stream] = (reads[stream] ?? 0) + d;
      const who = key.includes('/ordered:') ? `${stream}/ordered` : key;
      readers[who] = (readers[who] ?? 0) + d;
    }
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    return { cpuPer1000, stored, storedTotal: sum(stored), reads, readsTotal: sum(reads), readers };
  }
}
