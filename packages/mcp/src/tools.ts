import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { TASK_STATES, TOKEN_RE, TASK_TYPE_RE, targetInputSchema, typeToken } from '@errand/contracts';
import type { TaskTypeEntry } from './backend.ts';
import { typicalDuration } from './text.ts';

/** The optional `errand` argument of every task-type tool: how Errand runs the task. */
export const errandArgSchema = z.strictObject({
  user: z.string().regex(TOKEN_RE).optional(),
  priority: z.union([z.enum(['high', 'normal', 'low']), z.number().int().min(0).max(9)]).optional(),
  timeoutMs: z.number().int().min(1).optional(),
  budgetMs: z.number().int().min(0).optional(),
  deliver: z.array(z.unknown()).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
});
export type ErrandArg = z.infer<typeof errandArgSchema>;

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const ERRAND_PROPERTY: Record<string, unknown> = {
  ...jsonSchemaOf(errandArgSchema.extend({ deliver: z.array(targetInputSchema).optional() })),
  description:
    'Optional: how Errand runs this task. user (whose task it is), priority (high|normal|low or 0-9), timeoutMs, ' +
    'budgetMs (how long this call waits before answering that the task goes on in the background), ' +
    'deliver (where the result is also sent), idempotencyKey (a retried call returns the same task).',
};

/** The tool of a task type: its name is the type's token, its input the params schema plus `errand`. */
export function typeTool(t: TaskTypeEntry, budgetMs: number): Tool {
  const schema = t.paramsSchema;
  const properties = (schema.properties ?? {}) as Record<string, object>;
  return {
    name: typeToken(t.name),
    title: t.name,
    description:
      `${t.description ?? `Runs the Errand task type ${t.name}.`} ${typicalDuration(t)} ` +
      `Answers with the result when the task ends within ${Math.round(budgetMs / 1000)} s (errand.budgetMs); ` +
      'otherwise the answer names the task id and the task goes on in the background.',
    inputSchema: { ...schema, type: 'object', properties: { ...properties, errand: ERRAND_PROPERTY } },
    execution: { taskSupport: 'optional' },
  };
}

/** The tools that exist whatever the types: the HTTP verbs of the same names. */
export const GENERIC_TOOLS: Tool[] = [
  {
    name: 'errand_task_status',
    description: "An Errand task's status: state, progress with ETA, why it waits, result or error.",
    inputSchema: jsonSchemaOf(z.object({ id: z.string().regex(TOKEN_RE).describe('the task id') })) as Tool['inputSchema'],
  },
  {
    name: 'errand_task_result',
    description: "An Errand task's result, or the partial result of a task that did not complete.",
    inputSchema: jsonSchemaOf(z.object({ id: z.string().regex(TOKEN_RE) })) as Tool['inputSchema'],
  },
  {
    name: 'errand_cancel_task',
    description: 'Cancel an Errand task that has not ended.',
    inputSchema: jsonSchemaOf(z.object({ id: z.string().regex(TOKEN_RE), reason: z.string().max(1000).optional() })) as Tool['inputSchema'],
  },
  {
    name: 'errand_retry_task',
    description: 'Run a failed, timed-out or cancelled Errand task again, from its last checkpoint.',
    inputSchema: jsonSchemaOf(z.object({ id: z.string().regex(TOKEN_RE) })) as Tool['inputSchema'],
  },
  {
    name: 'errand_list_tasks',
    description: 'List Errand tasks, newest first, optionally by state, user or type.',
    inputSchema: jsonSchemaOf(
      z.object({
        state: z.enum(TASK_STATES).optional(),
        user: z.string().regex(TOKEN_RE).optional(),
        type: z.string().regex(TASK_TYPE_RE).optional(),
        limit: z.number().int().min(1).max(1000).optional(),
      }),
    ) as Tool['inputSchema'],
  },
];

/** Names and schemas of the live types' tools: what changes the tool list (descriptions drift with every run). */
export function toolsSignature(types: TaskTypeEntry[]): string {
  return JSON.stringify(
    types
      .filter((t) => t.live !== false)
      .map((t) => [t.name, t.paramsSchema])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
}
