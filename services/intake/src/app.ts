import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import type { Service } from '@nats-io/services';
import { BUCKETS, kvKeys } from '@errand/contracts';
import { nuid } from '@nats-io/transport-node';
import { openHistoryStore, type HistoryStore } from '@errand/history';
import { KvLease } from '@errand/lease';
import type { Config } from '@errand/config';
import { Blobs, EventLog, lastLogReset, logResetCount } from '@errand/nats';
import { createLogger, type Logger } from '@errand/runtime';
import { SecretBox, SecretStore, loadSecretKey } from '@errand/secrets';
import { parseAllowList } from '@errand/netguard';
import type { IntakeContext, Stores } from './context.ts';
import { ReadModel } from './adapters/read-model.ts';
import { TypeCatalog } from '@errand/catalog';
import { startApi } from './handlers/api.ts';
import { ParamsValidator } from './ops/params.ts';
import { installAuth } from './http/auth.ts';
import { frameworkErrors, installErrorHandling } from './http/errors.ts';
import { installJsonParser } from './http/body.ts';
import { taskRoutes } from './http/tasks.ts';
import { eventRoutes } from './http/events.ts';
import { catalogRoutes } from './http/catalog.ts';
import { healthRoutes, type Readiness } from './http/health.ts';
import { mcpRoutes } from './http/mcp.ts';
import { metricsRoutes } from './http/metrics.ts';
import { dashboardRoutes } from './http/dashboard.ts';
import { PromMetrics } from './adapters/prometheus.ts';
import { WorkerBeats } from './adapters/workers.ts';
import { Projector } from './adapters/projector.ts';

export const VERSION = '0.1.0';
/** Task types every deployment has (DESIGN.md): readiness waits for a worker to register them. */
export const BUILTIN_TYPES = ['demo.noop', 'demo.sleep', 'demo.report'] as const;

export interface Intake {
  /** the fastify instance, not listening (tests use `app.inject()`) */
  app: FastifyInstance;
  ctx: IntakeContext;
  /** follow the log, watch the types, serve the NATS API */
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): Promise<Readiness>;
}

/** The KV buckets and the blob store the operations use, opened before anything is built on them. */
async function openStores(nc: NatsConnection): Promise<Stores> {
  const kvm = new Kvm(nc);
  return {
    idempotency: await kvm.open(BUCKETS.idempotency),
    memory: await kvm.open(BUCKETS.memory),
    types: await kvm.open(BUCKETS.types),
    blobs: new Blobs(nc),
  };
}

/**
 * Build the intake: its stores are opened first (NATS must be reachable), so
 * the context is whole from the start; nothing listens or follows yet.
 */
export async function buildIntake(opts: {
  config: Config;
  nc: NatsConnection;
  log?: Logger;
  /** a store the caller owns (tests): the intake never closes it */
  history?: HistoryStore;
  /** the store's opening, begun earlier (main.ts): the intake owns it as if it had opened it */
  historyOpening?: Promise<HistoryStore>;
}): Promise<Intake> {
  const { config, nc } = opts;
  const stores = await openStores(nc);
  const log = opts.log ?? createLogger('intake');
  const events = new EventLog(nc, (i) => log.warn('skipping an invalid event', i));
  const types = new TypeCatalog(nc, { leaseMs: config.ERRAND_LEASE_MS, log });
  const workers = new WorkerBeats(config.ERRAND_LEASE_MS, log);
  const history = opts.history ?? (await (opts.historyOpening ?? openHistoryStore({ databaseUrl: config.ERRAND_DATABASE_URL, dataDir: config.ERRAND_DATA_DIR, log })));
  const readModel = new ReadModel(history, events, nc, { historyDays: config.ERRAND_HISTORY_DAYS, log });
  const metrics = new PromMetrics(
    () => workers.pools((t) => types.get(t)?.info.pool),
    () => history.metrics(),
  );
  const projector = new Projector({
    store: history,
    events,
    blobs: stores.blobs,
    nc,
    log,
    batch: config.ERRAND_PROJECTOR_BATCH,
    intervalMs: config.projectorIntervalMs,
    readerWaits: () => readModel.readerWaits,
    historyDays: config.ERRAND_HISTORY_DAYS,
    sweepMs: config.ERRAND_RETENTION_SWEEP_MS,
    onApplied: (changes, seq) => readModel.applied(changes, seq),
    onReset: () => readModel.storeReset(),
  });
  readModel.whenReaderWaits(() => projector.hurry());
  // an embedded store is this intake's own: it projects it. A PostgreSQL one is shared: one projector, elected.
  const lease =
    history.kind === 'postgres'
      ? new KvLease({
          kv: await new Kvm(nc).open(BUCKETS.leader),
          key: kvKeys.projector,
          holder: `intake-${nuid.next()}`,
          renewMs: Math.max(100, Math.min(1_000, Math.floor(config.ERRAND_LEASE_MS / 3))),
          log,
          onChange: async (held) => {
            readModel.setLocalProjector(held);
            if (held) {
              log.info('this intake projects the event log into the history store', { store: history.where });
              await projector.start();
            } else await projector.stop();
          },
        })
      : undefined;
  const ctx: IntakeContext = {
    config,
    nc,
    log,
    events,
    readModel,
    types,
    metrics,
    workers,
    params: new ParamsValidator(),
    secrets: new SecretStore(nc, new SecretBox(loadSecretKey(config))),
    allow: parseAllowList(config.webhookAllow),
    stores,
    connection: { up: !nc.isClosed() },
  };
  const app = buildHttp(ctx, () => ready());
  let service: Service | undefined;

  async function watchConnection(): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'close') ctx.connection.up = false;
      else if (s.type === 'reconnect') ctx.connection.up = true;
    }
  }

  async function ready(): Promise<Readiness> {
    const checks: Readiness['checks'] = {};
    checks.nats = ctx.connection.up && !nc.isClosed() ? { ok: true } : { ok: false, message: 'not connected to NATS' };
    checks.streams = await streamsPresent(ctx);
    const missing = BUILTIN_TYPES.filter((t) => !ctx.types.get(t));
    checks.types = missing.length ? { ok: false, message: `built-in task types not registered yet: ${missing.join(', ')}` } : { ok: true };
    checks.api = service && !service.isStopped ? { ok: true } : { ok: false, message: 'the NATS API is not serving' };
    checks.log = logCheck();
    checks.readModel = await historyCheck();
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  /** The history store answers, and has caught up with the log as it was when this intake started. */
  async function historyCheck(): Promise<Readiness['checks'][string]> {
    try {
      await history.appliedSeq();
    } catch (err) {
      return { ok: false, message: `the history store (${history.kind}, ${history.where}) cannot be reached: ${(err as Error).message}` };
    }
    const appliedSeq = ctx.readModel.appliedSeq();
    if (!ctx.readModel.isCaughtUp) return { ok: false, appliedSeq, message: 'the history store is still projecting the event log' };
    return { ok: true, appliedSeq };
  }

  return {
    app,
    ctx,
    ready,
    async start() {
      void watchConnection().catch(() => undefined);
      await ctx.types.start();
      workers.start(nc);
      if (lease) await lease.start();
      else {
        readModel.setLocalProjector(true);
        await projector.start();
      }
      await ctx.readModel.start();
      service = await startApi(ctx, VERSION);
      await app.ready();
    },
    async stop() {
      await service?.stop().catch(() => undefined);
      await app.close();
      await ctx.readModel.stop();
      if (lease) await lease.stop({ release: true });
      await projector.stop();
      if (!opts.history) await history.close();
      ctx.types.close();
      workers.stop();
      events.close();
    },
  };
}

/** The log this intake serves: always ok once it answers, but a reset found since start is said here (DESIGN.md "the history store"). */
function logCheck(): Readiness['checks'][string] {
  const r = lastLogReset();
  if (!r) return { ok: true };
  return {
    ok: true,
    resets: logResetCount(),
    resetAt: r.at,
    reason: r.reason,
    lostTasks: r.lostTasks,
    message: `the event log was reset at ${r.at}: ${r.lostTasks} tasks known before are gone (${r.reason})`,
  };
}

async function streamsPresent(ctx: IntakeContext): Promise<{ ok: boolean; message?: string }> {
  if (!ctx.connection.up) return { ok: false, message: 'not connected to NATS' };
  try {
    const missing = await ctx.events.missingStreams();
    return missing.length ? { ok: false, message: `streams missing: ${missing.join(', ')}` } : { ok: true };
  } catch (err) {
    return { ok: false, message: `streams unreachable: ${(err as Error).message}` };
  }
}

function buildHttp(ctx: IntakeContext, ready: () => Promise<Readiness>): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: ctx.config.ERRAND_BODY_LIMIT, forceCloseConnections: true, frameworkErrors });
  // route schemas document the API; the contracts' zod schemas validate it (as over NATS)
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installJsonParser(app);
  installErrorHandling(app, ctx);
  installAuth(app, ctx);
  void app.register(swagger, {
    openapi: {
      info: { title: 'Errand', version: VERSION, description: 'Background tasks for AI agents' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  void app.register(taskRoutes(ctx));
  void app.register(eventRoutes(ctx));
  void app.register(catalogRoutes(ctx));
  void app.register(healthRoutes(ctx, ready));
  void app.register(mcpRoutes(ctx, VERSION));
  void app.register(metricsRoutes(ctx));
  void app.register(dashboardRoutes(ctx));
  return app;
}
