import type { FastifyInstance } from 'fastify';
import type { IntakeContext } from '../context.ts';
import { docs } from './schemas.ts';

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; message?: string; [detail: string]: unknown }>;
}

/** `/healthz` (alive) and `/readyz` (every check of `ready()`). */
export function healthRoutes(_ctx: IntakeContext, ready: () => Promise<Readiness>) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', { schema: docs.health }, async () => ({ ok: true }));
    app.get('/readyz', { schema: docs.ready }, async (_req, reply) => {
      const r = await ready();
      return reply.code(r.ready ? 200 : 503).send(r);
    });
  };
}
