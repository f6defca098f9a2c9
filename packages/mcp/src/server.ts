import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolRequest,
  type CallToolResult,
  type CreateTaskResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ErrandError, typeToken, zodDetails, type SubmitBody, type TaskView } from '@errand/contracts';
import { errorOf, type ErrandBackend, type TaskTypeEntry } from './backend.ts';
import { runWithBudget } from './budget.ts';
import { callGeneric, isGenericTool } from './generic.ts';
import { errorResult, runResult } from './results.ts';
import { ErrandTaskStore, createdTask, installTaskResult } from './tasks.ts';
import { estimateEtaMs, progressSentence } from './text.ts';
import { GENERIC_TOOLS, errandArgSchema, toolsSignature, typeTool } from './tools.ts';

export interface ErrandMcpOptions {
  /** how long a plain tool call waits for its task (`ERRAND_MCP_BUDGET_MS`) */
  budgetMs: number;
  /** the history retention (`ERRAND_HISTORY_DAYS`): every MCP task's `ttl` */
  historyDays: number;
  version?: string;
  /** where failures that reach no caller go (a list_changed that could not be sent) */
  onError?: (err: unknown) => void;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
const DAY_MS = 86_400_000;

const INSTRUCTIONS =
  'Errand runs long work in the background. Each task-type tool answers with the result when the task ends within its ' +
  'budget; otherwise it answers at once with the task id, and the work goes on: errand_task_status and errand_task_result ' +
  'follow it. Tools can also be called as MCP tasks.';

/**
 * The Errand MCP server for one tenant's backend: one tool per live task
 * type, the generic task tools, progress notifications, runs with a budget,
 * task-augmented calls, and `notifications/tools/list_changed` as types go
 * live or offline. Connect it to a transport; closing it unsubscribes.
 */
export function createErrandMcpServer(backend: ErrandBackend, opts: ErrandMcpOptions): Server {
  const ttlMs = Math.round(opts.historyDays * DAY_MS);
  const server = new Server(
    { name: 'errand', version: opts.version ?? '0.1.0' },
    {
      capabilities: { tools: { listChanged: true }, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      taskStore: new ErrandTaskStore(backend, ttlMs),
      instructions: INSTRUCTIONS,
    },
  );
  installTaskResult(server, backend);

  let listed: string | undefined;
  const liveTypes = async () => (await backend.taskTypes()).filter((t) => t.live !== false);

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const types = await liveTypes();
    listed = toolsSignature(types);
    return { tools: [...types.map((t) => typeTool(t, opts.budgetMs)), ...GENERIC_TOOLS] };
  });

  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult | CreateTaskResult> => {
    const { name } = req.params;
    if (isGenericTool(name)) return await callGeneric(backend, name, req.params.arguments).catch((err: unknown) => errorResult(errorOf(err)));
    const type = (await liveTypes()).find((t) => typeToken(t.name) === name);
    if (!type) {
      const message = `no tool ${name}: no live worker serves a task type of that name`;
      if (req.params.task) throw new McpError(ErrorCode.InvalidParams, message);
      return errorResult({ code: 'unknown_type', message });
    }
    return await callTypeTool(backend, type, req, extra, opts, ttlMs);
  });

  // tools appear and disappear as types go live or offline
  const unsubscribe = backend.onTypesChange(() => {
    void (async () => {
      const now = toolsSignature(await liveTypes());
      if (listed === undefined || now === listed) return;
      listed = now;
      await server.sendToolListChanged();
    })().catch((err: unknown) => opts.onError?.(err));
  });
  const previous = server.onclose;
  server.onclose = () => {
    unsubscribe();
    previous?.();
  };
  return server;
}

/** The submit body of a task-type tool call: its arguments are the params, but for `errand`. */
function submitBodyOf(type: TaskTypeEntry, args: Record<string, unknown>): { body: SubmitBody; budgetMs: number | undefined } {
  const { errand, ...params } = args;
  const p = errandArgSchema.safeParse(errand ?? {});
  if (!p.success) throw new ErrandError('invalid', 'the "errand" argument does not fit its schema', { details: zodDetails(p.error) });
  const { budgetMs, ...settings } = p.data;
  return { body: { ...settings, type: type.name, params } as SubmitBody, budgetMs };
}

async function callTypeTool(
  backend: ErrandBackend,
  type: TaskTypeEntry,
  req: CallToolRequest,
  extra: Extra,
  opts: ErrandMcpOptions,
  ttlMs: number,
): Promise<CallToolResult | CreateTaskResult> {
  let plan: ReturnType<typeof submitBodyOf>;
  try {
    plan = submitBodyOf(type, req.params.arguments ?? {});
    if (req.params.task) return await createdTask(backend, (await backend.submit(plan.body)).id, ttlMs);
  } catch (err) {
    if (!req.params.task) return errorResult(errorOf(err));
    const e = errorOf(err);
    throw new McpError(ErrorCode.InvalidParams, `${e.code}: ${e.message}`, e.details);
  }
  try {
    const outcome = await runWithBudget(backend, plan.body, {
      budgetMs: plan.budgetMs ?? opts.budgetMs,
      signal: extra.signal,
      onUpdate: progressNotifier(extra, type),
    });
    return runResult(outcome);
  } catch (err) {
    return errorResult(errorOf(err));
  }
}

/**
 * `notifications/progress` for a request that asked for them (`_meta.progressToken`):
 * progress = percent of 100 with a readable message, never going backwards
 * (a new attempt continues from the highest value sent).
 */
function progressNotifier(extra: Extra, type: TaskTypeEntry): ((view: TaskView) => void) | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let sent = -1;
  return (view) => {
    const percent = view.state === 'completed' ? 100 : Math.floor(view.progress.percent);
    if (percent <= sent) return;
    sent = percent;
    const message = progressSentence(view, estimateEtaMs(view, type, Date.now()));
    extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: percent, total: 100, message } })
      .catch(() => undefined);
  };
}
