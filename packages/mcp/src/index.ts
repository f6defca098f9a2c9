/**
 * The Errand MCP server, written once over a small backend interface: the
 * intake serves it at `/mcp` over its own operations, `errand mcp` on stdio
 * over the HTTP client. Also the run with a budget that `client.run` uses.
 */
export { createErrandMcpServer, type ErrandMcpOptions } from './server.ts';
export { errorOf, type ErrandBackend, type TaskHandle, type TaskTypeEntry } from './backend.ts';
export { awaitWithBudget, runWithBudget, type BudgetOptions, type RunDone, type RunOutcome, type RunPending } from './budget.ts';
export { mcpStatus, toMcpTask, POLL_INTERVAL_MS } from './tasks.ts';
export { about, backgroundMessage, estimateEtaMs, outcomeSentence, progressSentence, taskNoun } from './text.ts';
export { typeTool, GENERIC_TOOLS } from './tools.ts';
