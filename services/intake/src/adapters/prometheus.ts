import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TASK_STATES, isTerminalState, type TaskState } from '@errand/contracts';
import type { DeliveryOutcome, MetricsSink } from '../domain/metrics.ts';
import { logResetCount } from '@errand/nats';
import type { PoolLoad } from './workers.ts';

/** Seconds: from a no-op task's few milliseconds to an hour-long report. */
const BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const WAITING: readonly TaskState[] = TASK_STATES.filter((s) => !isTerminalState(s));

/**
 * The `/metrics` series of DESIGN.md ("Seeing the system") in a registry of
 * this intake's own (prom-client), fed by the read model's fold through
 * `MetricsSink`; the worker gauges are read at scrape time.
 */
export class PromMetrics implements MetricsSink {
  readonly registry = new Registry();
  private readonly submittedTotal = new Counter({
    name: 'errand_tasks_submitted_total',
    help: 'Tasks submitted, from the event log',
    labelNames: ['tenant', 'type'] as const,
    registers: [this.registry],
  });
  private readonly finishedTotal = new Counter({
    name: 'errand_tasks_finished_total',
    help: 'Tasks that reached a terminal state (outcome = that state); a task reopened by a retry counts again when it ends again',
    labelNames: ['tenant', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly wait = new Histogram({
    name: 'errand_task_wait_seconds',
    help: 'Submitted to first started, once per task',
    labelNames: ['type'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly run = new Histogram({
    name: 'errand_task_run_seconds',
    help: 'First started to the end, at each end',
    labelNames: ['type'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly tasks = new Gauge({
    name: 'errand_tasks',
    help: 'Tasks now in each non-terminal state',
    labelNames: ['tenant', 'state'] as const,
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'errand_deliveries_total',
    help: 'Delivery outcomes recorded by the notifier (superseded = a progress message replaced by a later one)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly tenants = new Set<string>();

  constructor(pools: () => PoolLoad[]) {
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

  submitted(tenant: string, type: string): void {
    this.submittedTotal.inc({ tenant, type });
  }

  finished(tenant: string, type: string, outcome: TaskState): void {
    this.finishedTotal.inc({ tenant, type, outcome });
  }

  waited(type: string, seconds: number): void {
    this.wait.observe({ type }, seconds);
  }

  ran(type: string, seconds: number): void {
    this.run.observe({ type }, seconds);
  }

  moved(tenant: string, from: TaskState | undefined, to: TaskState): void {
    if (!this.tenants.has(tenant)) {
      // every non-terminal state of a tenant is a series from the start: 0 is an answer, absence is not
      this.tenants.add(tenant);
      for (const state of WAITING) this.tasks.set({ tenant, state }, 0);
    }
    if (from !== undefined && !isTerminalState(from)) this.tasks.dec({ tenant, state: from });
    if (!isTerminalState(to)) this.tasks.inc({ tenant, state: to });
  }

  delivery(kind: string, outcome: DeliveryOutcome): void {
    this.deliveries.inc({ kind, outcome });
  }

  /** The text format, and its content type. */
  async scrape(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
