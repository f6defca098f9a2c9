import { isTerminalState, type TaskState } from '@errand/contracts';
import { BUCKETS, bucketIndex } from './buckets.ts';
import type { DeliveryOutcome, MetricsSink } from './metrics.ts';

export interface CounterDelta {
  series: string;
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface HistogramDelta {
  name: 'wait' | 'run';
  type: string;
  /** per-bucket counts (not cumulative), the last one +Inf */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * What one batch adds to the counters and histograms: `countEvent` writes
 * here, the store adds it to its tables in one statement. Counter names:
 * submitted, finished, deliveries, and `tasks` (the gauge, moved by ±1).
 */
export class Deltas implements MetricsSink {
  readonly counters = new Map<string, CounterDelta>();
  readonly histograms = new Map<string, HistogramDelta>();

  private add(name: string, labels: Record<string, string>, by: number): void {
    const series = JSON.stringify([name, ...Object.values(labels)]);
    const c = this.counters.get(series);
    if (c) c.value += by;
    else this.counters.set(series, { series, name, labels, value: by });
  }

  private observe(name: 'wait' | 'run', type: string, seconds: number): void {
    const key = `${name} ${type}`;
    let h = this.histograms.get(key);
    if (!h) this.histograms.set(key, (h = { name, type, buckets: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
    h.buckets[bucketIndex(seconds)]!++;
    h.sum += seconds;
    h.count++;
  }

  submitted(tenant: string, type: string): void {
    this.add('submitted', { tenant, type }, 1);
  }
  finished(tenant: string, type: string, outcome: TaskState): void {
    this.add('finished', { tenant, type, outcome }, 1);
  }
  waited(type: string, seconds: number): void {
    this.observe('wait', type, seconds);
  }
  ran(type: string, seconds: number): void {
    this.observe('run', type, seconds);
  }
  moved(tenant: string, from: TaskState | undefined, to: TaskState): void {
    // the gauge counts tasks in non-terminal states only
    if (from !== undefined && !isTerminalState(from)) this.add('tasks', { tenant, state: from }, -1);
    if (!isTerminalState(to)) this.add('tasks', { tenant, state: to }, 1);
  }
  delivery(kind: string, outcome: DeliveryOutcome): void {
    this.add('deliveries', { kind, outcome }, 1);
  }
}
