import type { FastifyInstance } from 'fastify';
import { cancelBodySchema, invalid } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';
import { submit } from '../ops/submit.ts';
import { submitBatch } from '../ops/batch.ts';
import { cancel, result, retry, status } from '../ops/tasks.ts';
import { list } from '../ops/queries.ts';
import { tokenParam, traced } from './common.ts';
import { docs } from './schemas.ts';
import { liveList } from './live.ts';

/** Submit, status, list, result, cancel and retry. */
export function taskRoutes(ctx: IntakeContext) {
  const live = new Set<() => void>();
  return async (app: FastifyInstance) => {
    app.addHook('onClose', async () => {
      for (const close of [...live]) close();
    });
    app.post('/v1/tasks', { schema: docs.submit }, async (req, reply) => {
      const answer = await traced('errand.submit', req, () => submit(ctx, req.tenant, req.body));
      return reply.code(202).send(answer);
    });

    app.post('/v1/tasks/batch', { schema: docs.submitBatch }, async (req, reply) => {
      const answer = await traced('errand.submit-batch', req, () => submitBatch(ctx, req.tenant, req.body));
      return reply.code(202).send(answer);
    });

    app.get('/v1/tasks', { schema: docs.list }, async (req, reply) => {
      // the same list, live: the tenant's task changes as SSE (the dashboard)
      if (/text\/event-stream/.test(req.headers.accept ?? '')) return liveList(ctx, live, req, reply);
      return traced('errand.list', req, () => list(ctx, req.tenant, req.query));
    });

    app.get('/v1/tasks/:id', { schema: docs.status }, async (req) => {
      const id = tokenParam(req);
      return traced('errand.status', req, () => status(ctx, req.tenant, id));
    });

    app.get('/v1/tasks/:id/result', { schema: docs.result }, async (req) => {
      const id = tokenParam(req);
      return traced('errand.result', req, () => result(ctx, req.tenant, id));
    });

    app.post('/v1/tasks/:id/cancel', { schema: docs.cancel }, async (req, reply) => {
      const id = tokenParam(req);
      const body = cancelBodySchema.safeParse(req.body ?? {});
      if (!body.success) throw invalid('the cancel body does not fit its schema', body.error);
      return reply.code(202).send(await traced('errand.cancel', req, () => cancel(ctx, req.tenant, id, body.data)));
    });

    app.post('/v1/tasks/:id/retry', { schema: docs.retry }, async (req, reply) => {
      const id = tokenParam(req);
      return reply.code(202).send(await traced('errand.retry', req, () => retry(ctx, req.tenant, id)));
    });
  };
}
