import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ErrandError, TASK_STATES, TOKEN_RE, TASK_TYPE_RE, isTerminalState, zodDetails } from '@errand/contracts';
import type { ErrandBackend } from './backend.ts';
import { jsonResult } from './results.ts';
import { progressSentence } from './text.ts';

const id = z.string().regex(TOKEN_RE, 'must be a task id');
const ARGS = {
  errand_task_status: z.object({ id }),
  errand_task_result: z.object({ id }),
  errand_cancel_task: z.object({ id, reason: z.string().max(1000).optional() }),
  errand_retry_task: z.object({ id }),
  errand_list_tasks: z.object({
    state: z.enum(TASK_STATES).optional(),
    user: z.string().regex(TOKEN_RE).optional(),
    type: z.string().regex(TASK_TYPE_RE).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  }),
} as const;
export type GenericToolName = keyof typeof ARGS;

export function isGenericTool(name: string): name is GenericToolName {
  return Object.hasOwn(ARGS, name);
}

function parse<N extends GenericToolName>(name: N, args: unknown): z.infer<(typeof ARGS)[N]> {
  const p = ARGS[name].safeParse(args ?? {});
  if (!p.success) throw new ErrandError('invalid', `the arguments of ${name} do not fit its schema`, { details: zodDetails(p.error) });
  return p.data as z.infer<(typeof ARGS)[N]>;
}

/** Run one generic tool: the HTTP verb of the same name, its JSON as `structuredContent`. Throws the backend's errors. */
export async function callGeneric(backend: ErrandBackend, name: GenericToolName, args: unknown): Promise<CallToolResult> {
  switch (name) {
    case 'errand_task_status': {
      const view = await backend.get(parse(name, args).id);
      return jsonResult(`${progressSentence(view)} (task ${view.id}, ${view.state})`, view);
    }
    case 'errand_task_result': {
      const view = await backend.get(parse(name, args).id);
      if (view.result !== undefined) return jsonResult(`The result of task ${view.id}:`, { id: view.id, state: view.state, partial: false, result: view.result });
      if (view.partialResult !== undefined) {
        return jsonResult(`Task ${view.id} is ${view.state}; its partial result:`, { id: view.id, state: view.state, partial: true, result: view.partialResult });
      }
      throw new ErrandError('not_found', `task ${view.id} has no result${isTerminalState(view.state) ? '' : ` yet: ${progressSentence(view)}`}`, {
        details: { id: view.id, state: view.state },
      });
    }
    case 'errand_cancel_task': {
      const a = parse(name, args);
      const answer = await backend.cancel(a.id, a.reason !== undefined ? { reason: a.reason } : {});
      return jsonResult(`Cancel requested for task ${answer.id}; it is ${answer.state}.`, answer);
    }
    case 'errand_retry_task': {
      const answer = await backend.retry(parse(name, args).id);
      return jsonResult(`Task ${answer.id} will run again (${answer.state}).`, answer);
    }
    case 'errand_list_tasks': {
      const page = await backend.list(parse(name, args));
      const lines = page.items.map((v) => `${v.id} ${v.type} ${v.state}${v.state === 'running' ? ` ${Math.round(v.progress.percent)}%` : ''}`);
      return jsonResult(`${page.items.length} task(s), newest first:\n${lines.join('\n')}`, page);
    }
    default: {
      const never: never = name;
      return never;
    }
  }
}
