/**
 * `pnpm bench`: Errand against BullMQ (throughput, latency at a steady rate),
 * then the scheduler's replay rate, its memory with many queued tasks, and
 * cancel / timeout figures. See bench/README.md. Options: BENCH_* env.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBullmq, type BullResults } from './bullmq.ts';
import { runErrand, type ErrandResults, type ThroughputRun } from './errand.ts';
import { runMemory, type MemoryResults } from './memory.ts';
import { runMcp, type McpResults } from './mcp.ts';
import { runReplay, type ReplayResults } from './replay.ts';
import { readOptions } from './lib/options.ts';
import { topSelf } from './lib/profile.ts';
import { fmt, ratio, say } from './lib/stats.ts';
import { table } from './lib/table.ts';

const o = readOptions();
const started = performance.now();
const bullVersion = (JSON.parse(readFileSync(new URL('./node_modules/bullmq/package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function part<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    say(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    return { error: (err as Error).message.split('\n')[0]! };
  }
}
const ok = <T extends object>(r: T | { error: string } | undefined): T | undefined => (r && !('error' in r) ? (r as T) : undefined);

const wantErrand = !o.skip.has('errand') || !o.skip.has('latency') || !o.skip.has('control');
const errandR = wantErrand ? await part('errand', () => runErrand(o)) : undefined;
const bullR = !o.skip.has('bullmq') && (!o.skip.has('errand') || !o.skip.has('latency')) ? await part('bullmq', () => runBullmq(o, bullVersion)) : undefined;
const replayR = !o.skip.has('replay') ? await part('replay', () => runReplay(o)) : undefined;
const memoryR = !o.skip.has('memory') ? await part('memory', () => runMemory(o)) : undefined;
const mcpR = !o.skip.has('mcp') ? await part('mcp', () => runMcp(o)) : undefined;

const e = ok<ErrandResults>(errandR);
const b = ok<BullResults>(bullR);
const r = ok<ReplayResults>(replayR);
const m = ok<MemoryResults>(memoryR);
const mc = ok<McpResults>(mcpR);
const bullCol = b?.skipped ? 'skipped' : `BullMQ ${bullVersion}`;
const status = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'MISSED');

const rows: string[][] = [];
const tp = e?.throughput;
const btp = b?.throughput;
rows.push([
  `throughput, ${o.tasks} no-op tasks, batch submit (tasks/s)`,
  fmt(tp?.perSecond, 0),
  fmt(btp?.perSecond, 0),
  ratio(tp?.perSecond, btp?.perSecond),
  '>= BullMQ',
  status(tp && btp ? tp.perSecond >= btp.perSecond : undefined),
]);
const st = e?.single;
rows.push([
  `  the same, one submit request per task (tasks/s)`,
  fmt(st?.perSecond, 0),
  fmt(btp?.perSecond, 0),
  ratio(st?.perSecond, btp?.perSecond),
  '',
  '',
]);
// what each run cost, per process and per task: batch run / single-submit run
const both = (f: (x: ThroughputRun) => number | undefined, digits = 2) => (tp || st ? `${fmt(tp ? f(tp) : undefined, digits)} / ${fmt(st ? f(st) : undefined, digits)}` : '—');
const procs = [...new Set([...Object.keys(tp?.cost.cpuPer1000 ?? {}), ...Object.keys(st?.cost.cpuPer1000 ?? {})])];
for (const p of procs) rows.push([`  CPU s per 1,000 tasks, ${p} (batch / single)`, both((x) => x.cost.cpuPer1000[p]), '', '', '', '']);
rows.push([`  CPU s per 1,000 tasks, all processes (batch / single)`, both((x) => Object.values(x.cost.cpuPer1000).reduce((a, b) => a + b, 0)), '', '', '', '']);
const short = (stream: string) => stream.replace(/^ERRAND_/, '').toLowerCase();
const byStream = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${short(k)} ${fmt(v, 2)}`).join(' + ');
rows.push(['durable messages per task (batch run)', tp ? `${fmt(tp.cost.storedTotal, 2)} (${byStream(tp.cost.stored)})` : '—', '', '', '', '']);
rows.push(['consumer reads per task (batch run)', tp ? `${fmt(tp.cost.readsTotal, 2)} (${byStream(tp.cost.reads)})` : '—', '', '', '', '']);
const lat = e?.latency;
const bl = b?.latency;
rows.push([`submit -> start p50 at ${o.rate}/s (ms)`, fmt(lat?.start.p50, 2), fmt(bl?.start.p50, 2), ratio(lat?.start.p50, bl?.start.p50), '', '']);
rows.push([`submit -> start p99 at ${o.rate}/s (ms)`, fmt(lat?.start.p99, 2), fmt(bl?.start.p99, 2), ratio(lat?.start.p99, bl?.start.p99), '< 20 ms', status(lat ? lat.start.p99 < 20 : undefined)]);
rows.push([`submit -> completed p50 (ms)`, fmt(lat?.completed.p50, 2), fmt(bl?.completed.p50, 2), ratio(lat?.completed.p50, bl?.completed.p50), '', '']);
rows.push([`submit -> completed p99 (ms)`, fmt(lat?.completed.p99, 2), fmt(bl?.completed.p99, 2), ratio(lat?.completed.p99, bl?.completed.p99), '', '']);
rows.push([`submit -> start max (ms)`, fmt(lat?.start.max, 2), fmt(bl?.start.max, 2), '', '', '']);
rows.push([
  `replay into a fresh scheduler (events/s)`,
  r ? `${fmt(r.perSecond, 0)} (${fmt(r.events, 0)} in ${fmt(r.replaySeconds, 2)} s)` : '—',
  '',
  '',
  '>= 200,000',
  status(r ? r.perSecond >= 200_000 : undefined),
]);
if (r?.snapshot && 'restartMs' in r.snapshot) rows.push(['restart from a snapshot at the head (ms)', fmt(r.snapshot.restartMs, 0), '', '', '', '']);
rows.push(['writing that log (events/s, own publisher)', fmt(r?.writePerSecond, 0), '', '', '', '']);
rows.push([
  `scheduler peak RSS, ${fmt(o.memoryTasks, 0)} queued (MiB)`,
  m ? `${fmt(m.peakMiB, 0)} (idle ${fmt(m.baselineMiB, 0)})` : '—',
  '',
  '',
  '',
  '',
]);
if (m) rows.push([`  admitted ${m.queued} in (s)`, fmt(m.admitSeconds, 1), '', '', '', '']);
const c = e?.cancel;
rows.push(['cancel request -> cancelled event p50 / p99 (ms)', c ? `${fmt(c.toCancelled.p50, 1)} / ${fmt(c.toCancelled.p99, 1)}` : '—', '', '', '', '']);
const t = e?.timeout;
rows.push(['timed-out lateness p50 / p99 (ms)', t ? `${fmt(t.lateness.p50, 0)} / ${fmt(t.lateness.p99, 0)}` : '—', '', '', '', '']);
const mcpRow = (x: { p50: number; p99: number } | undefined) => (x ? `${fmt(x.p50, 1)} / ${fmt(x.p99, 1)}` : '—');
rows.push(['MCP plain demo_noop call p50 / p99, Streamable HTTP (ms)', mcpRow(mc?.noopHttp), '', '', '', '']);
rows.push(['MCP plain demo_noop call p50 / p99, stdio (ms)', mcpRow(mc?.noopStdio), '', '', '', '']);
rows.push([`MCP budget end -> background answer p50 / p99 (ms)`, mcpRow(mc?.budgetLateness), '', '', '', '']);

console.log('\nErrand benchmark');
console.log(table(['figure', 'Errand', bullCol, 'Errand/BullMQ', 'target', ''], rows));
console.log('');
if (b?.skipped) console.log(`BullMQ: ${b.skipped}`);
for (const [name, x] of [['batch', tp], ['single-submit', st]] as const) {
  if (!x) continue;
  console.log(`Errand ${name} throughput run: ${x.tasks} tasks in ${x.seconds.toFixed(2)} s; every consumer settled ${x.settleSeconds === undefined ? 'only after the timeout' : `${x.settleSeconds.toFixed(1)} s`} after the last completed (its CPU is counted)`);
  console.log(
    `  history projector: ${x.projector ? `${x.projector.lagEvents} events behind the log at the last completed, caught up ${x.projector.catchUpSeconds.toFixed(2)} s later` : 'its applied sequence was not readable'}`,
  );
  console.log(`  consumer reads per task: ${Object.entries(x.cost.readers).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
}
if (lat) console.log(`Errand latency by step (client arrival of consecutive events), p50/p99 ms: ${lat.stages.map(([k, v]) => `${k} ${fmt(v.p50, 1)}/${fmt(v.p99, 1)}`).join(', ')}`);
if (lat?.cost) {
  // CPU s per 1,000 tasks at `rate` tasks/s is the share of one core each process was busy
  const busy = Object.entries(lat.cost.cpuPer1000).sort((a, b) => b[1] - a[1]);
  const all = busy.reduce((a, [, v]) => a + v, 0);
  console.log(
    `Errand latency run, CPU s per 1,000 tasks (at ${o.rate}/s: the share of one core): ${busy.map(([k, v]) => `${k} ${fmt(v, 2)} (${fmt((v * o.rate) / 10, 0)} %)`).join(', ')}; all processes ${fmt(all, 2)} (${fmt((all * o.rate) / 1000, 2)} cores)`,
  );
}
if (btp) console.log(`BullMQ throughput run: ${btp.jobs} jobs in ${btp.seconds.toFixed(2)} s`);
if (tp?.errors || st?.errors || lat?.errors) console.log(`Errand submit errors: ${[tp?.errors, st?.errors, lat?.errors].filter(Boolean).join('; ')}`);
if (c) console.log(`cancel: ${c.toCancelled.n} tasks; the handler's signal is not observable from outside, the \`cancelled\` event's arrival is the proxy; cancel reply p50/p99 ${fmt(c.toReply.p50, 1)} / ${fmt(c.toReply.p99, 1)} ms${c.errors ? `; errors: ${c.errors}` : ''}`);
if (t) console.log(`timeout: ${t.lateness.n} tasks (${t.byType}); lateness = timed-out.at - (started.at + timeoutMs), max ${fmt(t.lateness.max, 0)} ms${t.errors ? `; errors: ${t.errors}` : ''}`);
if (r) console.log(`replay: scheduler heap grew ${fmt(r.heapMiB, 0)} MiB while folding ${fmt(r.events, 0)} events`);
if (mc) console.log(`mcp: ${mc.noopHttp.n} plain demo_noop calls per transport; ${mc.budgetLateness.n} demo_sleep calls with a ${mc.budgetMs} ms budget (answer time minus the budget, max ${fmt(mc.budgetLateness.max, 1)} ms)`);
for (const [name, x] of [['errand', errandR], ['bullmq', bullR], ['replay', replayR], ['memory', memoryR], ['mcp', mcpR]] as const) {
  if (x && 'error' in x) console.log(`${name}: FAILED: ${x.error}`);
}
if (o.cpuProfDir) {
  const files = readdirSync(o.cpuProfDir, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.cpuprofile'));
  for (const f of files) {
    const p = topSelf(join(o.cpuProfDir, f), { top: 6 });
    // tsx's loader thread is idle after start-up: skip it
    if (p.functions[0]?.[0].startsWith('(idle)') && (p.functions[0][1] ?? 0) > 0.8 * p.total) continue;
    console.log(`\nprofile ${f} (${Math.round(p.total)} ms): ${p.packages.map(([k, v]) => `${k} ${((100 * v) / p.total).toFixed(0)}%`).join(', ')}`);
    console.log(`  top functions: ${p.functions.map(([k, v]) => `${k} ${((100 * v) / p.total).toFixed(0)}%`).join('; ')}`);
  }
}
say(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
process.exit(0);
