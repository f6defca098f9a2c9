import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrandError } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';

export const DEV_TENANT = 'default';

/** The tenant of a request: `Authorization: Bearer <key>`, or `default` in development mode. */
export function tenantOf(req: FastifyRequest, ctx: IntakeContext): string {
  if (ctx.config.devMode) return DEV_TENANT;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const tenant = m ? ctx.config.apiKeys.get(m[1]!) : undefined;
  if (!tenant) throw new ErrandError('unauthorized', m ? 'unknown API key' : 'send an API key: Authorization: Bearer <key>');
  return tenant;
}

/** Authenticate every `/v1` request, and refuse it at once while NATS is unreachable. */
export function installAuth(app: FastifyInstance, ctx: IntakeContext): void {
  app.decorateRequest('tenant', '');
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/v1/')) return;
    req.tenant = tenantOf(req, ctx);
    if (!ctx.connection.up) throw new ErrandError('unavailable', 'NATS cannot be reached; try again');
  });
}
