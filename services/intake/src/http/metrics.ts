import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrandError } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Who may scrape: anyone in development mode; with API keys configured only
 * `Authorization: Bearer <ERRAND_METRICS_TOKEN>`, and with no such token the
 * route does not exist (404). The metrics span every tenant: an API key is
 * never enough.
 */
function checkScraper(req: FastifyRequest, ctx: IntakeContext): void {
  if (ctx.config.devMode) return;
  const token = ctx.config.ERRAND_METRICS_TOKEN;
  if (token === undefined) throw new ErrandError('not_found', 'no route GET /metrics (set ERRAND_METRICS_TOKEN to serve it)');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  // compared as digests: equal lengths, and no timing hint of the token
  if (!m || !timingSafeEqual(digest(m[1]!), digest(token))) {
    throw new ErrandError('unauthorized', 'send the metrics token: Authorization: Bearer <ERRAND_METRICS_TOKEN>');
  }
}

/** `GET /metrics`: the whole system's task metrics in the Prometheus text format. */
export function metricsRoutes(ctx: IntakeContext) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
      checkScraper(req, ctx);
      const { text, contentType } = await ctx.metrics.scrape();
      return reply.type(contentType).send(text);
    });
  };
}
