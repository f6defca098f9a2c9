import { Counter, Gauge, Registry } from 'prom-client';
import type { HistogramSeries, MetricsSnapshot } from '@errand/history';
import { logResetCount } from '@errand/nats';
import type { PoolLoad } from './workers.ts';

/**
 * The `/metrics` series of DESIGN.md ("Seeing the system"). The task series
 * come from the history store (its projector counts each event once, so
 * every intake serves the same totals): counters and the state gauge are
 * prom-client collectors that read one snapshot per scrape, the two
 * histograms are written in the text format from the store's buckets
 * (prom-client has no way to set a histogram's buckets). The worker gauges
 * are read from this intake's heartbeat follower at scrape time.
 */
export class PromMetrics {
  readonly registry = new Registry();
  private current: Promise<MetricsSnapshot> | undefined;

  constructor(
    pools: () => PoolLoad[],
    private readonly snapshot: () => Promise<MetricsSnapshot>,
  ) {
    const snap = () => this.current ?? this.snapshot();
    new Counter({
      name: 'errand_tasks_submitted_total',
      help: 'Tasks submitted, from the event log',
      labelNames: ['tenant', 'type'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of (await snap()).submitted) this.inc({ tenant: c.tenant, type: c.type }, c.value);
      },
    });
    new Counter({
      name: 'errand_tasks_finished_total',
      help: 'Tasks that reached a terminal state (outcome = that state); a task reopened by a retry counts again when it ends again',
      labelNames: ['tenant', 'type', 'outcome'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of (await snap()).finished) this.inc({ tenant: c.tenant, type: c.type, outcome: c.outcome }, c.value);
      },
    });
    new Gauge({
      name: 'errand_tasks',
      help: 'Tasks now in each non-terminal state',
      labelNames: ['tenant', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of (await snap()).tasks) this.set({ tenant: c.tenant, state: c.state }, c.value);
      },
    });
    new Counter({
      name: 'errand_deliveries_total',
      help: 'Delivery outcomes recorded by the notifier (superseded = a progress message replaced by a later one)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of (await snap()).deliveries) this.inc({ kind: c.kind, outcome: c.outcome }, c.value);
      },
    });
    // read at scrape time; reset first so a pool whose workers are gone drops out
    const gauge = (name: string, help: string, value: (p: PoolLoad) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['pool'] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const p of pools()) this.set({ pool: p.pool }, value(p));
        },
      });
    gauge('errand_workers', 'Live workers per pool (from their heartbeats)', (p) => p.workers);
    gauge('errand_worker_slots_free', 'Free task slots of the live workers per pool', (p) => p.freeSlots);
    new Counter({
      name: 'errand_log_resets_total',
      help: 'Times this intake found the event log lost or reset (a wiped NATS store): see /readyz',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(logResetCount());
      },
    });
  }

  /** The text format, and its content type: one store snapshot per scrape. */
  async scrape(): Promise<{ text: string; contentType: string }> {
    const snapshot = this.snapshot();
    this.current = snapshot;
    try {
      const s = await snapshot;
      const text = await this.registry.metrics();
      const hist =
        histogram('errand_task_wait_seconds', 'Submitted to first started, once per task', s.wait) +
        histogram('errand_task_run_seconds', 'First started to the end, at each end', s.run);
      return { text: text + hist, contentType: this.registry.contentType };
    } finally {
      if (this.current === snapshot) this.current = undefined;
    }
  }
}

/** One histogram family in the text format (0.0.4), from the store's cumulative buckets. */
function histogram(name: string, help: string, series: HistogramSeries[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const h of series) {
    const type = escapeLabel(h.type);
    for (const b of h.buckets) lines.push(`${name}_bucket{le="${b.le === Number.POSITIVE_INFINITY ? '+Inf' : b.le}",type="${type}"} ${b.count}`);
    lines.push(`${name}_sum{type="${type}"} ${h.sum}`, `${name}_count{type="${type}"} ${h.count}`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
