/**
 * The Errand SDK: `ErrandClient` over HTTP, `ErrandNatsClient` over NATS
 * request-reply, typed errors, and the SSE parser the HTTP watch uses.
 */
export { ErrandClient, type ErrandClientOptions, type WatchOptions } from './http.ts';
export { ErrandNatsClient, type ErrandNatsClientOptions } from './nats.ts';
export { ErrandClientError, isErrandError, type ClientErrorCode } from './errors.ts';
export { SseParser, readSse, type SseMessage } from './sse.ts';
export { renderProgress, formatDuration } from './progress.ts';
export { describeEvent } from './describe.ts';
export type {
  Accepted,
  BatchAnswer,
  CancelOptions,
  ErrandEvent,
  ListOptions,
  ListQuery,
  MetricsSummary,
  SubmitBody,
  TargetInput,
  TaskList,
  TaskResult,
  TaskState,
  TaskTypeListing,
  TaskView,
  WatchedEvent,
} from './types.ts';
export { serveMcpStdio, type McpStdioOptions } from './mcp.ts';
export { clientMcpBackend } from './mcp-backend.ts';
export type { RunOptions } from './run.ts';
export type { RunOutcome, RunDone, RunPending } from '@errand/mcp';
