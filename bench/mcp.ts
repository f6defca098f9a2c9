import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { dist, say, type Dist } from './lib/stats.ts';
import { BenchSystem } from './lib/system.ts';
import type { BenchOptions } from './lib/options.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

export interface McpResults {
  /** a plain `demo_noop` tool call, answered inline: request -> answer (ms) */
  noopHttp: Dist;
  noopStdio: Dist;
  /** a `demo_sleep` that outlives its budget: answer time minus the budget (ms) */
  budgetLateness: Dist;
  budgetMs: number;
}

async function calls(client: Client, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await client.callTool({ name: 'demo_noop', arguments: { result: i } });
    if (res.isError) throw new Error(`demo_noop failed: ${JSON.stringify(res.content)}`);
    out.push(performance.now() - t0);
  }
  return out;
}

async function connected(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'errand-bench', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** MCP figures: the round trip of a plain `demo_noop` call (HTTP and stdio), and how late the background answer comes after the budget. */
export async function runMcp(o: BenchOptions): Promise<McpResults> {
  say('mcp: starting nats-server and the four services');
  const sys = await BenchSystem.start({ services: ['scheduler', 'worker', 'notifier', 'intake'], env: { ERRAND_CONCURRENCY: '50' } });
  const url = `http://127.0.0.1:${sys.port}`;
  const http = await connected(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  const stdio = await connected(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--conditions=development', '--import', 'tsx', join(ROOT, 'packages/client/src/cli.ts'), 'mcp'],
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ERRAND_URL: url },
      stderr: 'ignore',
    }),
  );
  try {
    await calls(http, 20);
    await calls(stdio, 20);
    say(`mcp: ${o.mcpCalls} plain demo_noop calls over each transport`);
    const noopHttp = dist(await calls(http, o.mcpCalls));
    const noopStdio = dist(await calls(stdio, o.mcpCalls));
    const budgetMs = 500;
    const late: number[] = [];
    say(`mcp: ${o.mcpBudgetCalls} demo_sleep calls that outlive a ${budgetMs} ms budget`);
    for (let i = 0; i < o.mcpBudgetCalls; i++) {
      const t0 = performance.now();
      const res = await http.callTool({ name: 'demo_sleep', arguments: { durationMs: 5_000, steps: 10, errand: { budgetMs } } });
      late.push(performance.now() - t0 - budgetMs);
      const id = (res.structuredContent as { id?: string } | undefined)?.id;
      if (id) await http.callTool({ name: 'errand_cancel_task', arguments: { id } });
    }
    return { noopHttp, noopStdio, budgetLateness: dist(late), budgetMs };
  } finally {
    await http.close().catch(() => undefined);
    await stdio.close().catch(() => undefined);
    await sys.stop();
  }
}
