import type { FastifyInstance } from 'fastify';
import type { IntakeContext } from '../context.ts';
import { memoryOfTask, memoryOfUser, metricsSummary, taskTypes } from '../ops/queries.ts';
import { tokenParam, traced } from './common.ts';
import { docs } from './schemas.ts';

/** Task types, metrics and memory deliveries. */
export function catalogRoutes(ctx: IntakeContext) {
  return async (app: FastifyInstance) => {
    app.get('/v1/task-types', { schema: docs.taskTypes }, async (req) => taskTypes(ctx, req.tenant));
    app.get('/v1/metrics/summary', { schema: docs.metrics }, async (req) => metricsSummary(ctx, req.tenant));
    app.get('/v1/memory', { schema: docs.memoryOfUser }, async (req) => {
      const user = (req.query as Record<string, unknown>).user;
      return traced('errand.memory', req, () => memoryOfUser(ctx, req.tenant, user));
    });
    app.get('/v1/memory/:taskId', { schema: docs.memoryOfTask }, async (req) => {
      const id = tokenParam(req, 'taskId');
      return traced('errand.memory', req, () => memoryOfTask(ctx, req.tenant, id));
    });
  };
}
