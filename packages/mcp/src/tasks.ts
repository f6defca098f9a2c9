/**
 * Errand tasks as MCP tasks (protocol revision 2025-11-25): the one place
 * that maps between them, so a later tasks extension of the protocol can be
 * served beside it. The MCP task id is the Errand task id; Errand keeps the
 * state, nothing is stored here.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import {
  ErrorCode,
  GetTaskPayloadRequestSchema,
  McpError,
  RELATED_TASK_META_KEY,
  type CallToolResult,
  type CreateTaskResult,
  type Result,
  type Task,
} from '@modelcontextprotocol/sdk/types.js';
import { isTerminalState, type TaskState, type TaskView } from '@errand/contracts';
import { errorOf, type ErrandBackend } from './backend.ts';
import { endedResult } from './results.ts';
import { estimateEtaMs, progressSentence } from './text.ts';

/** How often a client is asked to poll `tasks/get`. */
export const POLL_INTERVAL_MS = 1_000;

/** The MCP status of an Errand state (DESIGN.md "Agents: MCP"). */
export function mcpStatus(state: TaskState): Task['status'] {
  switch (state) {
    case 'submitted':
    case 'queued':
    case 'dispatched':
    case 'running':
    case 'retrying':
      return 'working';
    case 'completed':
      return 'completed';
    case 'cancelled':
      return 'cancelled';
    case 'failed':
    case 'timed-out':
    case 'rejected':
      return 'failed';
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** The MCP task of an Errand task view; `ttlMs` is the history retention. */
export function toMcpTask(view: TaskView, ttlMs: number, now = Date.now()): Task {
  return {
    taskId: view.id,
    status: mcpStatus(view.state),
    statusMessage: progressSentence(view, estimateEtaMs(view, undefined, now)),
    createdAt: view.createdAt,
    lastUpdatedAt: view.finishedAt ?? view.startedAt ?? view.queuedAt ?? view.createdAt,
    ttl: ttlMs,
    pollInterval: POLL_INTERVAL_MS,
  };
}

/** The answer of a task-augmented tool call: at once, once the task is submitted. */
export async function createdTask(backend: ErrandBackend, id: string, ttlMs: number): Promise<CreateTaskResult> {
  return { task: toMcpTask(await backend.get(id), ttlMs) };
}

/** A task lookup that answers null for a task this tenant does not have. */
async function viewOrNull(backend: ErrandBackend, id: string): Promise<TaskView | null> {
  try {
    return await backend.get(id);
  } catch (err) {
    const { code } = errorOf(err);
    if (code === 'not_found' || code === 'invalid') return null;
    throw err;
  }
}

/**
 * The SDK's task store over Errand: `tasks/get`, `tasks/list` and
 * `tasks/cancel` read and write Errand. Tasks are created by calling a tool
 * (`params.task`), never through the store.
 */
export class ErrandTaskStore implements TaskStore {
  constructor(
    private readonly backend: ErrandBackend,
    private readonly ttlMs: number,
  ) {}

  async createTask(_params: CreateTaskOptions): Promise<Task> {
    throw new McpError(ErrorCode.InvalidRequest, 'Errand tasks are created by calling a task-type tool with params.task');
  }

  async getTask(taskId: string): Promise<Task | null> {
    const view = await viewOrNull(this.backend, taskId);
    return view ? toMcpTask(view, this.ttlMs) : null;
  }

  async storeTaskResult(): Promise<void> {
    throw new McpError(ErrorCode.InvalidRequest, 'Errand records the results of its tasks itself');
  }

  async getTaskResult(taskId: string): Promise<Result> {
    const view = await viewOrNull(this.backend, taskId);
    if (!view) throw new McpError(ErrorCode.InvalidParams, `Task not found: ${taskId}`);
    return endedResult(view);
  }

  /** Only `cancelled` means anything here: it requests the Errand task's cancel. */
  async updateTaskStatus(taskId: string, status: Task['status'], statusMessage?: string): Promise<void> {
    if (status !== 'cancelled') return;
    try {
      await this.backend.cancel(taskId, statusMessage ? { reason: statusMessage } : {});
    } catch (err) {
      // ended meanwhile: `tasks/cancel` then answers the task as it ended
      if (errorOf(err).code !== 'conflict') throw err;
    }
  }

  async listTasks(cursor?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const page = await this.backend.list({ limit: 50, ...(cursor ? { cursor } : {}) });
    return { tasks: page.items.map((v) => toMcpTask(v, this.ttlMs)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }
}

/**
 * `tasks/result`: waits for the task's end by following it (no polling), then
 * answers what the plain call would have.
 */
export function installTaskResult(server: Server, backend: ErrandBackend): void {
  server.setRequestHandler(GetTaskPayloadRequestSchema, async (req, extra) => {
    const id = req.params.taskId;
    let last: TaskView | undefined;
    try {
      for await (const view of backend.follow(id, extra.signal)) last = view;
    } catch (err) {
      if (extra.signal.aborted) throw new McpError(ErrorCode.InvalidRequest, 'Request cancelled');
      const e = errorOf(err);
      if (e.code === 'not_found' || e.code === 'invalid') throw new McpError(ErrorCode.InvalidParams, `Task not found: ${id}`);
      throw err;
    }
    if (!last || !isTerminalState(last.state)) throw new McpError(ErrorCode.InvalidRequest, 'Request cancelled');
    const result: CallToolResult = endedResult(last);
    return { ...result, _meta: { ...result._meta, [RELATED_TASK_META_KEY]: { taskId: id } } };
  });
}
