import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import type { Service } from '@nats-io/services';
import { BUCKETS, ErrandError, STREAMS } from '@errand/contracts';
import type { Config } from '@errand/config';
import { Blobs, EventLog, createLogger, type Logger } from '@errand/nats';
import { SecretBox, SecretStore, loadSecretKey } from '@errand/secrets';
import { parseAllowList } from '@errand/netguard';
import type { IntakeContext, Stores } from './context.ts';
import { ReadModel } from './handlers/events.ts';
import { TypeCatalog } from './handlers/types.ts';
import { startApi } from './handlers/api.ts';
import { ParamsValidator } from './ops/params.ts';
import { installAuth } from './http/auth.ts';
import { installErrorHandling } from './http/errors.ts';
import { taskRoutes } from './http/tasks.ts';
import { eventRoutes } from './http/events.ts';
import { catalogRoutes } from './http/catalog.ts';
import { healthRoutes, type Readiness } from './http/health.ts';
import { metricsRoutes } from './http/metrics.ts';
import { dashboardRoutes } from './http/dashboard.ts';
import { PromMetrics } from './adapters/prometheus.ts';
import { WorkerBeats } from './adapters/workers.ts';
import { countEvent } from './domain/metrics.ts';

export const VERSION = '0.1.0';
/** Task types every deployment has (DESIGN.md): readiness waits for a worker to register them. */
export const BUILTIN_TYPES = ['demo.noop', 'demo.sleep', 'demo.report'] as const;

export interface Intake {
  /** the fastify instance, not listening (tests use `app.inject()`) */
  app: FastifyInstance;
  ctx: IntakeContext;
  /** open the buckets, follow the log, watch the types, serve the NATS API */
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): Promise<Readiness>;
}

export function buildIntake(opts: { config: Config; nc: NatsConnection; log?: Logger }): Intake {
  const { config, nc } = opts;
  const log = opts.log ?? createLogger('intake');
  const events = new EventLog(nc, (i) => log.warn('skipping an invalid event', i));
  const types = new TypeCatalog(log);
  const workers = new WorkerBeats(config.ERRAND_LEASE_MS, log);
  const metrics = new PromMetrics(() => workers.pools((t) => types.pool(t)));
  const ctx: IntakeContext = {
    config,
    nc,
    log,
    events,
    readModel: new ReadModel(events),
    types,
    metrics,
    workers,
    params: new ParamsValidator(),
    secrets: new SecretStore(nc, new SecretBox(loadSecretKey(config))),
    allow: parseAllowList(config.webhookAllow),
    stores: undefined as unknown as Stores,
    connection: { up: !nc.isClosed() },
  };
  // counted in the fold of every event, so every intake serves the same totals
  ctx.readModel.projection.onChange((c) => countEvent(metrics, c.before, c.after, c.event));
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
    const missing = BUILTIN_TYPES.filter((t) => !ctx.types.has(t));
    checks.types = missing.length ? { ok: false, message: `built-in task types not registered yet: ${missing.join(', ')}` } : { ok: true };
    checks.api = service && !service.isStopped ? { ok: true } : { ok: false, message: 'the NATS API is not serving' };
    checks.readModel = ctx.readModel.isCaughtUp ? { ok: true } : { ok: false, message: 'the read model is still replaying the log' };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  return {
    app,
    ctx,
    ready,
    async start() {
      void watchConnection().catch(() => undefined);
      const kvm = new Kvm(nc);
      ctx.stores = {
        idempotency: await kvm.open(BUCKETS.idempotency),
        memory: await kvm.open(BUCKETS.memory),
        types: await kvm.open(BUCKETS.types),
        blobs: new Blobs(nc),
      };
      await ctx.types.start(ctx.stores.types);
      workers.start(nc);
      await ctx.readModel.start();
      service = await startApi(ctx, VERSION);
      await app.ready();
    },
    async stop() {
      await service?.stop().catch(() => undefined);
      await app.close();
      await ctx.readModel.stop();
      ctx.types.stop();
      workers.stop();
      events.close();
    },
  };
}

async function streamsPresent(ctx: IntakeContext): Promise<{ ok: boolean; message?: string }> {
  if (!ctx.connection.up) return { ok: false, message: 'not connected to NATS' };
  try {
    const jsm = await ctx.events.jsm();
    for (const name of Object.values(STREAMS)) await jsm.streams.info(name);
    return { ok: true };
  } catch (err) {
    return { ok: false, message: `streams missing or unreachable: ${(err as Error).message}` };
  }
}

function buildHttp(ctx: IntakeContext, ready: () => Promise<Readiness>): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: ctx.config.ERRAND_BODY_LIMIT, forceCloseConnections: true });
  // route schemas document the API; the contracts' zod schemas validate it (as over NATS)
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    const body = String(text);
    if (body.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body));
    } catch (err) {
      done(new ErrandError('invalid', `malformed JSON: ${(err as Error).message}`), undefined);
    }
  });
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
  void app.register(metricsRoutes(ctx));
  void app.register(dashboardRoutes(ctx));
  return app;
}
