import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createErrandMcpServer } from '@errand/mcp';
import { ErrandClient, type ErrandClientOptions } from './http.ts';
import { clientMcpBackend } from './mcp-backend.ts';

export interface McpStdioOptions extends ErrandClientOptions {
  /** how long a plain tool call waits for its task; default 15 s (`ERRAND_MCP_BUDGET_MS`) */
  budgetMs?: number;
  /** the history retention, every MCP task's `ttl`; default 30 (`ERRAND_HISTORY_DAYS`) */
  historyDays?: number;
  /** an open client to use instead of one made from the options */
  client?: ErrandClient;
}

/**
 * Serve the Errand MCP server on this process's stdin and stdout (`errand mcp`),
 * for the Errand at `baseUrl` with `apiKey`. Resolves once connected; the
 * process then serves until stdin closes.
 */
export async function serveMcpStdio(opts: McpStdioOptions = {}): Promise<{ close(): Promise<void> }> {
  const client = opts.client ?? new ErrandClient(opts);
  const server = createErrandMcpServer(clientMcpBackend(client), {
    budgetMs: opts.budgetMs ?? 15_000,
    historyDays: opts.historyDays ?? 30,
    onError: (err) => process.stderr.write(`errand mcp: ${(err as Error).message ?? String(err)}\n`),
  });
  const transport = new StdioServerTransport();
  await server.connect(transport);
  return { close: () => server.close() };
}
