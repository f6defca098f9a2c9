import { hostname } from 'node:os';
import { jetstreamManager, type Consumer } from '@nats-io/jetstream';
import { nuid, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Config } from '@errand/config';
import { CONSUMERS, DEFAULTS, subjects } from '@errand/contracts';
import { Blobs, EventLog } from '@errand/nats';
import type { Logger } from '@errand/runtime';
import { paramsJsonSchema, type AnyTaskType } from './registry.ts';
import { typeSetProblems } from './domain/typeset.ts';
import { handleWork, type Running } from './handlers/work.ts';
import { SlotPuller, workConsumer } from './adapters/puller.ts';
import { publishHeartbeat, publishTypes, registeredTypeNames, type Served } from './adapters/catalog.ts';
import { WorkerStartError } from './errors.ts';
import type { WorkerDeps } from './deps.ts';

const TYPES_EVERY_MS = 60_000;

export interface WorkerOptions {
  config: Config;
  nc: NatsConnection;
  log: Logger;
  /** the task types it serves: only these */
  types: AnyTaskType[];
  /** the pool of types that name none (default `default`) */
  pool?: string;
  /** task slots (default ERRAND_WORKER_CONCURRENCY) */
  concurrency?: number;
  workerId?: string;
  /** the event log to write to (default: one of its own, closed at stop) */
  events?: EventLog;
  /** how long stop() waits for aborted handlers (default 5 s) */
  drainMs?: number;
  /** after an abort, how long a handler may run on before its slot is reused (default: the cancel grace) */
  abortGraceMs?: number;
}

export interface Worker {
  workerId: string;
  /** check the types, ensure their consumers, publish them, send the first beat, start pulling */
  start(): Promise<void>;
  /** stop pulling, abort running handlers, wait for them briefly, send the `stopping` beat */
  stop(): Promise<void>;
  /** the attempts running now */
  running(): { taskId: string; tenant: string; attempt: number; taskType: string }[];
}

function defaultWorkerId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}-${nuid.next().slice(-6)}`;
}

function paramNames(t: AnyTaskType): string[] {
  try {
    return Object.keys((paramsJsonSchema(t).properties as Record<string, unknown> | undefined) ?? {});
  } catch {
    return [];
  }
}

/** Refuse, with every reason at once, a set of types this worker may not serve. */
async function checkTypes(nc: NatsConnection, served: Served[]): Promise<void> {
  const specs = served.map((s) => ({ name: s.type.name, pool: s.pool, paramNames: paramNames(s.type) }));
  const problems = typeSetProblems(specs, await registeredTypeNames(nc));
  for (const s of served) {
    try {
      paramsJsonSchema(s.type);
    } catch (err) {
      problems.push(`task type ${s.type.name}: its params schema cannot be published as JSON Schema (${(err as Error).message})`);
    }
  }
  if (problems.length > 0) throw new WorkerStartError(problems);
}

/** Build a worker for `types`; nothing starts until `start()`. The caller owns `nc`. */
export function buildWorker(o: WorkerOptions): Worker {
  const { config, nc } = o;
  const workerId = o.workerId ?? defaultWorkerId();
  const log = o.log.child({ workerId });
  const events = o.events ?? new EventLog(nc, (i) => log.warn('skipping an invalid event', i));
  const served: Served[] = o.types.map((type) => ({ type, pool: type.defaults?.pool ?? o.pool ?? DEFAULTS.pool }));
  const slots = o.concurrency ?? config.ERRAND_WORKER_CONCURRENCY;
  const deps: WorkerDeps = {
    config,
    nc,
    events,
    blobs: new Blobs(nc),
    log,
    workerId,
    registry: new Map(o.types.map((t) => [t.name, t])),
    abortGraceMs: o.abortGraceMs ?? config.ERRAND_CANCEL_GRACE_MS,
  };
  const running = new Map<string, Running>();
  const timers: NodeJS.Timeout[] = [];
  let puller: SlotPuller | undefined;
  let statusIter: AsyncIterable<unknown> | undefined;
  let beatRequests: Subscription | undefined;

  const beat = (stopping = false) =>
    publishHeartbeat(
      nc,
      {
        workerId,
        at: new Date().toISOString(),
        tasks: [...running.values()].map(({ attempt: a }) => ({ taskId: a.work.taskId, tenant: a.work.tenant, attempt: a.work.attempt })),
        types: served.map((s) => s.type.name),
        slots,
        freeSlots: stopping ? 0 : Math.max(0, slots - (puller?.inUse ?? 0)),
        ...(stopping ? { stopping: true } : {}),
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
      await checkTypes(nc, served);
      const jsm = await jetstreamManager(nc);
      const consumers = new Map<string, Consumer>();
      await Promise.all(
        served.map(async (s) => consumers.set(CONSUMERS.worker(s.pool, s.type.name), await workConsumer(nc, jsm, s.pool, s.type.name))),
      );
      await publishTypes(nc, served, log, true);
      timers.push(setInterval(() => void publishTypes(nc, served, log), TYPES_EVERY_MS));
      timers.push(setInterval(() => beat(), config.ERRAND_HEARTBEAT_MS));
      for (const t of timers) t.unref();
      // a catalog that has just started (an intake, a new scheduler) asks for a beat at once
      beatRequests = nc.subscribe(subjects.heartbeatRequest, { callback: (err) => {
          if (!err) beat();
        } });
      void watchStatus().catch((err: unknown) => log.warn('status watch ended', { err }));
      // a pull request outlives a stopped worker by its expiry: keep it well under the lease,
      // so that a task taken up again is never handed to the stopped worker
      const expiresMs = Math.min(5_000, Math.max(1_000, Math.floor(config.ERRAND_LEASE_MS / 3)));
      puller = new SlotPuller({ consumers, slots, log, expiresMs, onMessage: (m) => handleWork(m, deps, running) });
      puller.start();
      beat();
      // the first beat is on the server when start() resolves: the types are live from then on
      await nc.flush();
    },
    async stop() {
      const drained = puller?.stop(o.drainMs ?? 5_000);
      for (const r of running.values()) r.attempt.abortWith('shutdown', 'the worker is stopping');
      await drained;
      for (const t of timers) clearInterval(t);
      beatRequests?.unsubscribe();
      // the last beat says so, so its types go offline at once where no other worker serves them
      beat(true);
      await nc.flush().catch(() => undefined);
      (statusIter as { stop?: () => void } | undefined)?.stop?.();
      if (!o.events) events.close();
    },
    running: () =>
      [...running.values()].map(({ attempt: a }) => ({ taskId: a.work.taskId, tenant: a.work.tenant, attempt: a.work.attempt, taskType: a.work.taskType })),
  };
}
