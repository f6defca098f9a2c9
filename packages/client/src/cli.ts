#!/usr/bin/env node
// The `errand` command line: `pnpm errand <command>` (see USAGE in cli-args.ts).
import { clientEnv } from '@errand/config';
import { isTerminalState, type ErrandEvent } from '@errand/contracts';
import { parseCli, UsageError, USAGE, type Cli } from './cli-args.ts';
import { describeEvent } from './describe.ts';
import { isErrandError } from './errors.ts';
import { loadMcpConfig } from '@errand/config';
import { ErrandClient } from './http.ts';
import { serveMcpStdio } from './mcp.ts';
import { renderProgress } from './progress.ts';

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** Follow a task until it ends, showing a live progress bar on a terminal; returns the exit code. */
async function watchTask(client: ErrandClient, id: string, json: boolean): Promise<number> {
  const tty = process.stderr.isTTY && !json;
  let bar = '';
  let progress = { percent: 0, message: null as string | null, etaMs: null as number | null, at: Date.now() };
  const draw = () => {
    if (!tty) return;
    bar = renderProgress(progress, { columns: process.stderr.columns, sinceMs: Date.now() - progress.at });
    process.stderr.write(`\r\u001b[2K${bar}`);
  };
  const line = (text: string) => {
    if (tty) process.stderr.write(`\r\u001b[2K${text}\n`);
    else process.stderr.write(`${text}\n`);
    draw();
  };
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  const ticker = tty ? setInterval(draw, 1000) : undefined;
  try {
    for await (const { event } of client.watch(id, { signal: ac.signal })) {
      if (json) {
        process.stdout.write(`${JSON.stringify(event)}\n`);
        continue;
      }
      if (event.type === 'progress') {
        progress = { percent: event.percent, message: event.message ?? null, etaMs: event.etaMs ?? null, at: Date.now() };
        if (tty) draw();
        else line(`${event.at.slice(11, 19)} ${describeEvent(event)}`);
      } else if (event.type === 'checkpoint' && tty) {
        // the bar already shows how far it got
      } else if (event.type !== 'delivered' && event.type !== 'delivery-failed') {
        if (event.type === 'completed') progress = { ...progress, percent: 100, etaMs: null };
        line(`${event.at.slice(11, 19)} ${describeEvent(event as ErrandEvent)}`);
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
    process.removeListener('SIGINT', onSigint);
    if (tty) process.stderr.write(`\r\u001b[2K`);
  }
  if (ac.signal.aborted) {
    process.stderr.write(`stopped watching; the task goes on (errand status ${id})\n`);
    return 130;
  }
  const view = await client.status(id);
  if (json) print(view);
  if (view.state === 'completed') {
    if (!json) print(view.result ?? null);
    return 0;
  }
  if (!json) {
    process.stderr.write(`task ${id} ended ${view.state}${view.error ? `: ${view.error.code}: ${view.error.message}` : ''}\n`);
    if (isTerminalState(view.state) && view.partialResult !== undefined) {
      process.stderr.write('partial result:\n');
      print(view.partialResult);
    }
  }
  return 1;
}

export async function run(cli: Cli): Promise<number> {
  const client = new ErrandClient({ baseUrl: cli.url, ...(cli.apiKey ? { apiKey: cli.apiKey } : {}) });
  const c = cli.command;
  switch (c.cmd) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'submit': {
      const accepted = await client.submit(c.body);
      if (!c.watch) {
        print(accepted);
        return 0;
      }
      process.stderr.write(`task ${accepted.id} ${accepted.state}\n`);
      return await watchTask(client, accepted.id, cli.json);
    }
    case 'watch':
      return await watchTask(client, c.id, cli.json);
    case 'status':
      print(await client.status(c.id));
      return 0;
    case 'history':
      print(await client.events(c.id));
      return 0;
    case 'result':
      print(await client.result(c.id));
      return 0;
    case 'cancel':
      print(await client.cancel(c.id, { ...(c.reason ? { reason: c.reason } : {}), ...(c.discardPartial ? { discardPartial: true } : {}) }));
      return 0;
    case 'retry':
      print(await client.retry(c.id));
      return 0;
    case 'list':
      print(await client.list(c.query));
      return 0;
    case 'types':
      print(await client.taskTypes());
      return 0;
    case 'metrics':
      print(await client.metrics());
      return 0;
    case 'mcp': {
      // stdout carries the protocol from here on: nothing else is printed there; serves until stdin closes
      const mcp = loadMcpConfig();
      await serveMcpStdio({ client, budgetMs: mcp.ERRAND_MCP_BUDGET_MS, historyDays: mcp.ERRAND_HISTORY_DAYS });
      return 0;
    }
    default: {
      const never: never = c;
      return never;
    }
  }
}

async function main(): Promise<void> {
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2), clientEnv());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`errand: ${err.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    process.exitCode = await run(cli);
  } catch (err) {
    if (isErrandError(err)) {
      process.stderr.write(`errand: ${err.code}: ${err.message}\n`);
      if (err.details !== undefined) process.stderr.write(`${JSON.stringify(err.details, null, 2)}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

await main();
