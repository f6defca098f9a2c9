#!/usr/bin/env node
// The `errand` command line: `pnpm errand <command>` (see USAGE in cli-args.ts).
import { isTerminalState, type ErrandEvent } from '@errand/contracts';
import { parseCli, UsageError, USAGE, type Cli } from './cli-args.ts';
import { describeEvent } from './describe.ts';
import { isErrandError } from './errors.ts';
import { ErrandClient } from './http.ts';
import { formatDuration, renderProgress } from './progress.ts';
import { top } from './cli-top.ts';
import { formatHistory, formatList, formatStatus, table } from './cli-format.ts';
import { clientEnv, loadMcpConfig } from '@errand/config';
import { serveMcpStdio } from './mcp.ts';

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const say = (text: string) => process.stdout.write(`${text}\n`);
const ms = (v: unknown) => (typeof v === 'number' ? formatDuration(v) : '-');

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
        // why it waits, as the scheduler sees it (the same waitingOn as `errand status`)
        if (event.type === 'queued' || event.type === 'retry-scheduled') {
          const waiting = (await client.status(id).catch(() => undefined))?.waitingOn;
          if (waiting) line(`         waiting: ${waiting.message}`);
        }
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
        if (cli.json) print(accepted);
        else say(`Task ${accepted.id} ${accepted.state}${accepted.position !== undefined ? ` (${accepted.position} ahead)` : ''}. Follow it: errand watch ${accepted.id}`);
        return 0;
      }
      process.stderr.write(`task ${accepted.id} ${accepted.state}\n`);
      return await watchTask(client, accepted.id, cli.json);
    }
    case 'watch':
      return await watchTask(client, c.id, cli.json);
    case 'status': {
      const view = await client.status(c.id);
      if (cli.json) print(view);
      else say(formatStatus(view, Date.now()));
      return 0;
    }
    case 'history': {
      const events = await client.events(c.id);
      if (cli.json) print(events);
      else say(formatHistory(events, Date.now(), describeEvent));
      return 0;
    }
    case 'result':
      print(await client.result(c.id));
      return 0;
    case 'cancel': {
      const r = await client.cancel(c.id, { ...(c.reason ? { reason: c.reason } : {}), ...(c.discardPartial ? { discardPartial: true } : {}) });
      if (cli.json) print(r);
      else say(isTerminalState(r.state) ? `Task ${r.id} is ${r.state}.` : `Cancel of task ${r.id} requested; it is ${r.state} for now.`);
      return 0;
    }
    case 'retry': {
      const r = await client.retry(c.id);
      if (cli.json) print(r);
      else say(`Task ${r.id} will run again (${r.state}). Follow it: errand watch ${r.id}`);
      return 0;
    }
    case 'list': {
      const page = await client.list(c.query);
      if (cli.json) print(page);
      else say(formatList(page.items, Date.now(), page.nextCursor));
      return 0;
    }
    case 'types': {
      const types = await client.taskTypes();
      if (cli.json) print(types);
      else {
        const rows = types.items.map((t) => {
          const x = t as typeof t & { live?: boolean; workers?: number };
          const d = t.observedDurationMs;
          return [t.name, t.pool, x.live === undefined ? '' : x.live ? 'live' : 'offline', x.workers === undefined ? '' : String(x.workers), d?.count ? `${ms(d.p50)} / ${ms(d.p95)}` : '-', t.description ?? ''];
        });
        say(table(['TYPE', 'POOL', 'STATE', 'WORKERS', 'P50 / P95', 'DESCRIPTION'], rows));
      }
      return 0;
    }
    case 'metrics': {
      const m = await client.metrics();
      if (cli.json) print(m);
      else {
        const rows = Object.entries(m.byType).map(([type, raw]) => {
          const x = raw as { terminal?: number; failureRate?: number | null; completionMs?: Record<string, unknown>; queueWaitMs?: Record<string, unknown> };
          const rate = typeof x.failureRate === 'number' ? `${(x.failureRate * 100).toFixed(1)}%` : '-';
          return [type, String(x.terminal ?? 0), ms(x.completionMs?.avg), ms(x.completionMs?.p50), ms(x.completionMs?.p95), ms(x.queueWaitMs?.avg), ms(x.queueWaitMs?.p95), rate];
        });
        say(rows.length ? table(['TYPE', 'ENDED', 'RUN AVG', 'P50', 'P95', 'WAIT AVG', 'WAIT P95', 'FAILED'], rows) : 'No task has ended yet.');
      }
      return 0;
    }
    case 'top':
      return await top(client, say);
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
