import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type Consumer } from '@nats-io/jetstream';
import { nuid } from '@nats-io/transport-node';
import type { Config } from '@errand/config';
import { DEFAULTS } from '@errand/contracts';
import { EventLog, type Logger } from '@errand/nats';
import { Blobs } from '@errand/nats';
import { buildRegistry, type AnyTaskType } from './registry.ts';
import { builtinTypes } from './types/index.ts';
import { handleWork, type Running } from './handlers/work.ts';
import { ensureWorkConsumer, SlotPuller } from './pull.ts';
import { publishHeartbeat, publishTypes } from './beats.ts';
import type { WorkerDeps } from './deps.ts';

const TYPES_EVERY_MS = 60_000;

export interface WorkerOptions {
  config: Config;
  nc: NatsConnection;
  log: Logger;
  workerId?: string;
  /** task types beyond the built-in ones (a type with a built-in's name replaces it) */
  types?: AnyTaskType[];
  /** the event log to write to (default: one of its own, closed at stop) */
  events?: EventLog;
  /** how long stop() waits for aborted handlers (default 5 s) */
  drainMs?: number;
  /** after an abort, how long a handler may run on before its slot is reused (default: the cancel grace) */
  abortGraceMs?: number;
  /** demo.report's time per day (default ERRAND_DEMO_REPORT_MS_PER_DAY or 2000) */
  reportMsPerDay?: number;
}

export interface Worker {
  workerId: string;
  start(): Promise<void>;
  /** stop pulling, abort running handlers, wait for them briefly */
  stop(): Promise<void>;
  /** the attempts running now */
  running(): { taskId: string; tenant: string; attempt: number; taskType: string }[];
}

function envNumber(value: string | undefined): number | undefined {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Build the worker service; nothing starts until `start()`. */
export function buildWorker(o: WorkerOptions): Worker {
  const { config, nc } = o;
  const workerId = o.workerId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}-${nuid.next().slice(-6)}`;
  const log = o.log.child({ workerId });
  const events = o.events ?? new EventLog(nc, (i) => log.warn('skipping an invalid event', i));
  const reportMsPerDay = o.reportMsPerDay ?? envNumber(process.env.ERRAND_DEMO_REPORT_MS_PER_DAY);
  const registry = buildRegistry([...builtinTypes(reportMsPerDay === undefined ? {} : { reportMsPerDay }), ...(o.types ?? [])]);
  const served = [...registry.values()].filter((t) => config.pools.includes(t.defaults.pool ?? DEFAULTS.pool));
  const deps: WorkerDeps = {
    config,
    nc,
    events,
    blobs: new Blobs(nc),
    log,
    workerId,
    registry,
    abortGraceMs: o.abortGraceMs ?? config.ERRAND_CANCEL_GRACE_MS,
  };
  const running = new Map<string, Running>();
  const timers: NodeJS.Timeout[] = [];
  let puller: SlotPuller | undefined;
  let statusIter: AsyncIterable<unknown> | undefined;

  const beat = () =>
    publishHeartbeat(
      nc,
      {
        workerId,
        at: new Date().toISOString(),
        tasks: [...running.values()].map(({ attempt: a }) => ({ taskId: a.work.taskId, tenant: a.work.tenant, attempt: a.work.attempt })),
        types: served.map((t) => t.name),
        slots: config.ERRAND_WORKER_CONCURRENCY,
        freeSlots: Math.max(0, config.ERRAND_WORKER_CONCURRENCY - running.size),
      },
      log,
    );

  // After a reconnect, core messages sent meanwhile are lost: re-read each running task's history.
  const watchStatus = async () => {
    statusIter = nc.status();
    for await (const s of statusIter as AsyncIterable<{ type: string }>) {
      if (s.type !== 'reconnect') continue;
      log.info('reconnected; checking running tasks for missed control events', { tasks: running.size });
      for (const r of running.values()) void r.control.verify();
    }
  };

  return {
    workerId,
    async start() {
      for (const t of registry.values()) {
        if (!served.includes(t)) log.warn('task type of a pool this worker does not serve; not published', { taskType: t.name, pool: t.defaults.pool });
      }
      const consumers = new Map<string, Consumer>();
      const js = jetstream(nc);
      for (const t of served) {
        const pool = t.defaults.pool ?? DEFAULTS.pool;
        consumers.set(`${pool}/${t.name}`, await ensureWorkConsumer(nc, js, pool, t.name));
      }
      await publishTypes(nc, served, log);
      timers.push(setInterval(() => void publishTypes(nc, served, log), TYPES_EVERY_MS));
      timers.push(setInterval(beat, config.ERRAND_HEARTBEAT_MS));
      for (const t of timers) t.unref();
      void watchStatus().catch((err: unknown) => log.warn('status watch ended', { err }));
      beat();
      // a pull request outlives a stopped worker by its expiry: keep it well under the lease,
      // so that a task taken up again is never handed to the stopped worker
      puller = new SlotPuller({ consumers, slots: config.ERRAND_WORKER_CONCURRENCY, log, expiresMs: Math.min(5_000, Math.max(1_000, Math.floor(config.ERRAND_LEASE_MS / 3))), onMessage: (m) => handleWork(m, deps, running) });
      puller.start();
    },
    async stop() {
      const drained = puller?.stop(o.drainMs ?? 5_000);
      for (const r of running.values()) r.attempt.abortWith('shutdown', 'the worker is stopping');
      await drained;
      for (const t of timers) clearInterval(t);
      (statusIter as { stop?: () => void } | undefined)?.stop?.();
      if (!o.events) events.close();
    },
    running: () =>
      [...running.values()].map(({ attempt: a }) => ({ taskId: a.work.taskId, tenant: a.work.tenant, attempt: a.work.attempt, taskType: a.work.taskType })),
  };
}
