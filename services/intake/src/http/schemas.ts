import { z } from 'zod';
import { MAX_BATCH, cancelBodySchema, errorBodySchema, listQuerySchema, submitBodySchema, taskViewSchema } from '@errand/contracts';

/**
 * JSON Schemas for the OpenAPI document only: requests are validated by the
 * zod schemas of the contracts (the same code path as the NATS API).
 */
function json(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  try {
    const { $schema: _s, ...rest } = z.toJSONSchema(schema, { unrepresentable: 'any', io }) as Record<string, unknown>;
    return rest;
  } catch {
    return { type: 'object' };
  }
}

const error = json(errorBodySchema);
const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } }, required: ['id'] };
const accepted = {
  type: 'object',
  properties: { id: { type: 'string' }, state: { type: 'string' }, position: { type: 'integer' } },
};
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { description: 'error', ...error }]));
const security = [{ bearer: [] }];

export const docs = {
  submit: {
    summary: 'Submit a task',
    tags: ['tasks'],
    security,
    body: json(submitBodySchema, 'input'),
    response: { 202: { description: 'accepted', ...accepted }, ...errors(400, 401, 404, 409, 413, 429, 503) },
  },
  submitBatch: {
    summary: 'Submit up to 1,000 tasks; each item is decided on its own',
    tags: ['tasks'],
    security,
    body: {
      type: 'object',
      properties: { tasks: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: json(submitBodySchema, 'input') } },
      required: ['tasks'],
      additionalProperties: false,
    },
    response: {
      202: {
        description: 'one item per task, in the order given: the accepted task, or its error',
        type: 'object',
        properties: { items: { type: 'array', items: { anyOf: [accepted, error] } } },
      },
      ...errors(400, 401, 413, 503),
    },
  },
  list: {
    summary: 'List tasks, newest first',
    tags: ['tasks'],
    security,
    querystring: json(listQuerySchema, 'input'),
    response: { 200: { type: 'object', properties: { items: { type: 'array', items: json(taskViewSchema) }, nextCursor: { type: ['string', 'null'] } } }, ...errors(400, 401) },
  },
  status: { summary: 'Task status', tags: ['tasks'], security, params: idParams, response: { 200: json(taskViewSchema), ...errors(400, 401, 404) } },
  result: {
    summary: 'Result or partial result',
    tags: ['tasks'],
    security,
    params: idParams,
    response: { 200: { type: 'object', properties: { id: { type: 'string' }, state: { type: 'string' }, partial: { type: 'boolean' }, result: {} } }, ...errors(400, 401, 404) },
  },
  cancel: { summary: 'Cancel a task', tags: ['tasks'], security, params: idParams, body: json(cancelBodySchema, 'input'), response: { 202: accepted, ...errors(400, 401, 404, 409) } },
  retry: { summary: 'Retry a failed, timed-out or cancelled task', tags: ['tasks'], security, params: idParams, response: { 202: accepted, ...errors(400, 401, 404, 409) } },
  events: {
    summary: "The task's events (JSON array, or SSE with Accept: text/event-stream; Last-Event-ID resumes)",
    tags: ['tasks'],
    security,
    params: idParams,
    response: { 200: { type: 'array', items: { type: 'object' } }, ...errors(400, 401, 404) },
  },
  taskTypes: { summary: 'Registered task types', tags: ['catalog'], security },
  metrics: { summary: 'Completion time, failure rate and queue wait by task type', tags: ['catalog'], security },
  memoryOfUser: { summary: "A user's memory deliveries", tags: ['memory'], security, querystring: { type: 'object', properties: { user: { type: 'string' } }, required: ['user'] } },
  memoryOfTask: { summary: "A task's memory delivery", tags: ['memory'], security, params: { type: 'object', properties: { taskId: { type: 'string' } } } },
  health: { summary: 'Liveness', tags: ['health'] },
  ready: { summary: 'Readiness: NATS, streams, built-in types, NATS API, read model', tags: ['health'] },
};
