/**
 * The memory part of `pnpm bench` alone, with more detail: the scheduler
 * process's peak RSS with BENCH_MEMORY_TASKS (100,000) queued tasks, its RSS
 * over time, and, with BENCH_HEAP_SNAPSHOT=<folder>, a V8 heap snapshot of
 * the scheduler once they are all queued (written by the scheduler itself on
 * SIGUSR2, so open it in Chrome's DevTools). The scheduler runs from its
 * build, as production does (built first when missing or stale);
 * BENCH_FROM_SOURCES=1 runs it with tsx: its loader thread and transforms
 * cost about 50 MiB of the idle RSS.
 *
 *   node --conditions=development --import tsx bench/scheduler-memory.ts
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@errand/testing';
import { runMemory } from './memory.ts';
import { readOptions } from './lib/options.ts';
import { fmt } from './lib/stats.ts';

const o = readOptions();
const dir = process.env.BENCH_HEAP_SNAPSHOT ? resolve(process.env.BENCH_HEAP_SNAPSHOT) : undefined;
const snapshots = () => (dir && existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')) : []);

const m = await runMemory(o, {
  ...(dir ? { env: { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` } } : {}),
  async atEnd(sched) {
    if (!dir) return;
    const before = snapshots().length;
    sched.child.kill('SIGUSR2');
    await waitFor(() => snapshots().length > before, { timeoutMs: 120_000, intervalMs: 500, what: 'the heap snapshot' });
    // the file is listed as soon as it is opened: wait until the process is back to answering (its RSS moves again)
    await new Promise((r) => setTimeout(r, 5_000));
  },
});

console.log(`scheduler, ${fmt(m.tasks, 0)} tasks: ${m.queued} queued in ${fmt(m.admitSeconds, 1)} s`);
console.log(`peak RSS ${fmt(m.peakMiB, 0)} MiB (idle ${fmt(m.baselineMiB, 0)}, at the end ${fmt(m.rssMiB, 0)})`);
console.log(`RSS every 100 ms (MiB): ${m.timeline.join(' ')}`);
if (dir) console.log(`heap snapshot: ${snapshots().join(', ')} in BENCH_HEAP_SNAPSHOT`);
process.exit(0);
