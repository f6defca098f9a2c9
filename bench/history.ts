/**
 * The history store under a long log: 400,000 finished tasks (5 events each,
 * 2,000,000 events) folded through `apply` in batches of 1,000, into the
 * embedded store (PGlite) and a PostgreSQL server, each in a process of its
 * own (so each RSS is its own). Then the reads the API makes, timed.
 *
 *   node --conditions=development --import tsx bench/history.ts [--tasks N] [--database-url URL] [--only embedded|postgres]
 *
 * The PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
 * gets a database of its own, dropped at the end.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import { timed } from './lib/stats.ts';
import { openHistoryStore, type HistoryStore, type LogItem } from '@errand/history';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '400000' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    only: { type: 'string' },
    child: { type: 'string' },
  },
});
const TASKS = Number(args.tasks);
const BATCH = 1000;
const PER_TASK = 5;
const TYPES = ['bench.a', 'bench.b', 'bench.c', 'bench.d'];
const TENANT = 'acme';
const BASE = Date.parse('2025-01-01T00:00:00.000Z');

/** Event `step` (0..4) of task i: submitted, queued, dispatched, started, completed. */
function event(i: number, step: number): ErrandEvent {
  const task = { taskId: `t${i.toString(36).padStart(6, '0')}`, tenant: TENANT };
  const at = new Date(BASE + i * 10 + step * (1 + (i % 50)));
  switch (step) {
    case 0:
      return makeEvent('submitted', task, at, {
        user: `u${i % 100}`,
        taskType: TYPES[i % TYPES.length]!,
        params: { n: i },
        priority: 5,
        timeoutMs: 60_000,
        progressEveryMs: 10_000,
        deliver: [],
      });
    case 1:
      return makeEvent('queued', task, at, { position: 0 });
    case 2:
      return makeEvent('dispatched', task, at, { attempt: 1, pool: 'default' });
    case 3:
      return makeEvent('started', task, at, { attempt: 1, workerId: 'w' });
    default:
      return makeEvent('completed', task, at, { attempt: 1, result: i });
  }
}

/**
 * The log in batches of 1,000: 200 tasks move together, each a step further
 * every batch (batch b holds step s of the tasks of wave b - s), so a task's
 * events land in five consecutive batches, as tasks in flight do.
 */
function* batches(): Generator<ErrandEvent[]> {
  const wave = BATCH / PER_TASK;
  const waves = Math.ceil(TASKS / wave);
  for (let b = 0; b < waves + PER_TASK - 1; b++) {
    const out: ErrandEvent[] = [];
    for (let step = PER_TASK - 1; step >= 0; step--) {
      const w = b - step;
      if (w < 0 || w >= waves) continue;
      for (let i = w * wave; i < Math.min(TASKS, (w + 1) * wave); i++) out.push(event(i, step));
    }
    yield out;
  }
}

/** `timed`, as the line this bench prints. */
async function timedLine(n: number, fn: () => Promise<unknown>): Promise<string> {
  const t = await timed(n, fn);
  return `p50 ${t.medianMs.toFixed(1)} ms, max ${t.maxMs.toFixed(1)} ms`;
}

async function measure(kind: string, open: () => Promise<HistoryStore>): Promise<void> {
  const t0 = performance.now();
  const store = await open();
  const openMs = performance.now() - t0;
  await store.reset('bench');
  let seq = 0;
  const start = performance.now();
  let peakRss = 0;
  for (const events of batches()) {
    const items: LogItem[] = events.map((event) => ({ seq: ++seq, event }));
    await store.apply(items, seq, seq - items.length);
    if ((seq / BATCH) % 100 === 0) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      process.stderr.write(`  ${kind}: ${seq} events, ${Math.round(seq / ((performance.now() - start) / 1000))}/s\n`);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const oldest = await store.getTask(TENANT, event(0, 0).taskId);
  if (oldest?.state !== 'completed') throw new Error(`the oldest task is ${oldest?.state}`);
  const page = await store.list(TENANT, { state: 'completed', type: 'bench.c' });
  if (page.items.length !== 50) throw new Error('the filtered list is short');
  const lines = [
    `${kind}: ${seq} events (${TASKS} tasks) in ${seconds.toFixed(1)} s = ${Math.round(seq / seconds)} events/s; open ${Math.round(openMs)} ms`,
    `  RSS at the end ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB (peak seen ${Math.round(Math.max(peakRss, process.memoryUsage().rss) / 2 ** 20)} MiB)`,
    `  status of the oldest task: ${await timedLine(50, () => store.getTask(TENANT, event(0, 0).taskId))}`,
    `  list state=completed type=bench.c: ${await timedLine(50, () => store.list(TENANT, { state: 'completed', type: 'bench.c' }))}`,
    `  list, 3rd page of that: ${await timedLine(20, async () => {
      let p = await store.list(TENANT, { state: 'completed', type: 'bench.c' });
      p = await store.list(TENANT, { state: 'completed', type: 'bench.c', cursor: p.nextCursor! });
      return store.list(TENANT, { state: 'completed', type: 'bench.c', cursor: p.nextCursor! });
    })} (3 calls)`,
    `  metrics(): ${await timedLine(50, () => store.metrics())}`,
    `  typeMetrics(): ${await timedLine(20, () => store.typeMetrics(TENANT))}`,
    `  expire 1,000: ${await timedLine(5, () => store.expire(new Date(BASE + 3_600_000), 1000))}`,
  ];
  await store.close();
  const t1 = performance.now();
  const again = await open();
  lines.push(`  reopen ${Math.round(performance.now() - t1)} ms, RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
  await again.close();
  console.log(lines.join('\n'));
}

async function child(kind: string): Promise<void> {
  if (kind === 'embedded') {
    const dataDir = mkdtempSync(join(tmpdir(), 'errand-bench-history-'));
    try {
      await measure('embedded (PGlite)', () => openHistoryStore({ dataDir }));
      const du = spawnSync('du', ['-sh', join(dataDir, 'history')], { encoding: 'utf8' }).stdout.split('\t')[0];
      console.log(`  on disk: ${du}`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    return;
  }
  const admin = args['database-url']!;
  const db = `errand_bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${db}`);
  const url = new URL(admin);
  url.pathname = `/${db}`;
  try {
    await measure('postgres', () => openHistoryStore({ dataDir: tmpdir(), databaseUrl: url.toString() }));
    const [size] = (await c.query(`SELECT pg_size_pretty(pg_database_size('${db}')) AS s`)).rows as { s: string }[];
    console.log(`  on disk: ${size?.s}`);
  } finally {
    await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await c.end();
  }
}

if (args.child) {
  await child(args.child);
} else {
  for (const kind of args.only ? [args.only] : ['embedded', 'postgres']) {
    // a process per store: each RSS is that store's alone
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', kind, '--tasks', String(TASKS), '--database-url', args['database-url']!], {
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exitCode = 1;
  }
}
