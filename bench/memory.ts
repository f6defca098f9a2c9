import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, makeEvent, subjects, type TaskTypeInfo } from '@errand/contracts';
import { provision } from '@errand/nats';
import { waitFor } from '@errand/testing';
import { ensureBuilt } from './lib/build.ts';
import { LogWriter } from './lib/logwriter.ts';
import { say } from './lib/stats.ts';
import { BenchSystem, type Service } from './lib/system.ts';
import type { BenchOptions } from './lib/options.ts';

export interface MemoryResults {
  tasks: number;
  /** RSS (MiB) sampled every 100 ms from the first submit until all were queued, then for 2 s more */
  timeline: number[];
  queued: number;
  baselineMiB: number;
  peakMiB: number;
  rssMiB: number;
  admitSeconds: number;
}

/** A type whose pool no worker serves: its tasks are admitted and stay queued. */
const HOLD: TaskTypeInfo = {
  name: 'bench.hold',
  description: 'bench: never run',
  paramsSchema: { type: 'object' },
  pool: 'bench-nobody',
  defaults: { timeoutMs: 3_600_000, priority: 5, maxAttempts: 1 },
  updatedAt: new Date().toISOString(),
};

/** Extras for `bench/scheduler-memory.ts`: more environment for the scheduler, and a look at it once all are queued. */
export interface MemoryHooks {
  env?: Record<string, string>;
  atEnd?: (sched: Service) => Promise<void>;
}

/**
 * A scheduler process (nothing else) holding `memoryTasks` queued tasks: its
 * peak RSS (VmHWM). It runs from its build, as production does (`node
 * services/scheduler/dist/main.js`), built first when missing or older than
 * its sources; `memoryFromSources` runs it with tsx instead (about 50 MiB more).
 */
export async function runMemory(o: BenchOptions, hooks: MemoryHooks = {}): Promise<MemoryResults> {
  const n = o.memoryTasks;
  if (!o.memoryFromSources) ensureBuilt('scheduler');
  const sys = await BenchSystem.start({
    services: [],
    ...(o.cpuProfDir ? { cpuProfDir: o.cpuProfDir } : {}),
    fromDist: !o.memoryFromSources,
    env: { ERRAND_CONCURRENCY: '1', ERRAND_MAX_PENDING_PER_USER: '1000000', LOG_LEVEL: 'info', ...hooks.env },
  });
  const nc = await connect({ servers: sys.nats.url, name: 'bench-memory' });
  try {
    await provision(nc);
    const kv = await new Kvm(nc).open(BUCKETS.types);
    await kv.put(HOLD.name, JSON.stringify(HOLD));
    const sched = sys.add('scheduler');
    await waitFor(() => /caught up with the log/.test(sched.output), { timeoutMs: 30_000, what: 'the scheduler to start' });
    await waitFor(() => /took the lease/.test(sched.output), { timeoutMs: 30_000, what: 'the scheduler to lead' });
    const baselineMiB = sched.memory().rssMiB;
    let queued = 0;
    const sub = nc.subscribe(subjects.allEvents, {
      callback: (err, m) => {
        if (!err && m.string().startsWith('{"type":"queued"')) queued++;
      },
    });
    const timeline: number[] = [];
    const sampler = setInterval(() => sched.alive && timeline.push(Math.round(sched.memory().rssMiB)), 100);
    say(`memory: appending ${n} submitted events (1000 users), no worker for their pool`);
    const t0 = performance.now();
    const w = new LogWriter(nc, 2_000);
    const at = new Date();
    for (let i = 0; i < n; i++) {
      await w.write(
        makeEvent('submitted', { taskId: `m${i.toString(36).padStart(6, '0')}`, tenant: 'mem' }, at, {
          user: `u${i % 1000}`,
          taskType: HOLD.name,
          params: { i },
          priority: 5,
          timeoutMs: 3_600_000,
          progressEveryMs: 10_000,
          deliver: [],
        }),
      );
    }
    await w.flush();
    w.close();
    await waitFor(() => queued >= n || !sched.alive, { timeoutMs: 180_000, intervalMs: 50, what: `${n} queued events` }).catch((err: unknown) =>
      say(`memory: ${(err as Error).message} (${queued} queued)`),
    );
    const admitSeconds = (performance.now() - t0) / 1000;
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 2_000));
    clearInterval(sampler);
    const m = sched.memory();
    await hooks.atEnd?.(sched);
    return { tasks: n, timeline, queued, baselineMiB, peakMiB: m.peakMiB, rssMiB: m.rssMiB, admitSeconds };
  } finally {
    await nc.close().catch(() => undefined);
    await sys.stop();
  }
}
