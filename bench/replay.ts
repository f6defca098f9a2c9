import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { loadConfig } from '@errand/config';
import { makeEvent, STREAMS, type ErrandEvent } from '@errand/contracts';
import { connectNats, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { buildScheduler } from '@errand/scheduler';
import { startNatsServer, waitFor } from '@errand/testing';
import { LogWriter } from './lib/logwriter.ts';
import { say } from './lib/stats.ts';
import type { BenchOptions } from './lib/options.ts';

export interface ReplayResults {
  events: number;
  writeSeconds: number;
  writePerSecond: number;
  replaySeconds: number;
  perSecond: number;
  heapMiB: number;
  snapshot?: { seq: number; restartMs: number } | { error: string };
}

/** The five events of one no-op task's life, 1 ms apart. */
export function lifecycle(tenant: string, i: number, base: number): ErrandEvent[] {
  const task = { taskId: `t${i.toString(36).padStart(6, '0')}r`, tenant };
  const at = (k: number) => new Date(base + i + k);
  return [
    makeEvent('submitted', task, at(0), {
      user: `u${i % 1000}`,
      taskType: 'demo.noop',
      params: { result: i },
      priority: 5,
      timeoutMs: 60_000,
      progressEveryMs: 10_000,
      deliver: [],
    }),
    makeEvent('queued', task, at(1), { position: 0 }),
    makeEvent('dispatched', task, at(2), { attempt: 1, pool: 'default' }),
    makeEvent('started', task, at(3), { attempt: 1, workerId: 'worker-bench' }),
    makeEvent('completed', task, at(4), { attempt: 1, result: i }),
  ];
}

/** Write a log of `events` events (complete lifecycles), then time a fresh in-process scheduler until it has caught up. */
/**
 * Write `tasks` lifecycles of `tenant` straight into the log, the way a busy
 * system's overlap: 1,000 tasks move through their states together. Progress
 * every `every` tasks, prefixed with `label`.
 */
export async function writeLifecycles(nc: NatsConnection, tenant: string, tasks: number, base: number, label: string, every: number): Promise<LogWriter> {
  const w = new LogWriter(nc);
  for (let chunk = 0; chunk < tasks; chunk += 1_000) {
    const lives = [];
    for (let i = chunk; i < Math.min(tasks, chunk + 1_000); i++) lives.push(lifecycle(tenant, i, base));
    for (let k = 0; k < 5; k++) for (const life of lives) await w.write(life[k]!);
    if (chunk % every === 0 && chunk) say(`${label}: ${chunk * 5} written`);
  }
  await w.flush();
  w.close();
  return w;
}

export async function runReplay(o: BenchOptions): Promise<ReplayResults> {
  const tasks = Math.ceil(o.replayEvents / 5);
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, name: 'bench-replay-writer' });
  try {
    await provision(nc);
    say(`replay: writing ${tasks * 5} events (${tasks} task lifecycles)`);
    const base = Date.now() - 3_600_000;
    const t0 = performance.now();
    const w = await writeLifecycles(nc, 'replay', tasks, base, 'replay', 50_000);
    const writeSeconds = (performance.now() - t0) / 1000;
    if (w.failed) say(`replay: ${w.failed} writes failed (${w.lastError})`);
    const info = await (await jetstreamManager(nc)).streams.info(STREAMS.events);
    const events = info.state.messages;
    say(`replay: ${events} events in the log (${Math.round(events / writeSeconds)} events/s written); starting a fresh scheduler`);

    const config = loadConfig({ NATS_URL: server.url, ERRAND_CONCURRENCY: '2000', ERRAND_MAX_PENDING_PER_USER: '1000000', LOG_LEVEL: 'warn' });
    const log = createLogger('scheduler', {}, 'warn');
    const snc = await connectNats({ url: server.url, name: 'bench-replay-scheduler' });
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const r0 = performance.now();
    const sched = await buildScheduler({ config, nc: snc, log });
    await sched.start();
    await waitFor(() => sched.runtime.isCaughtUp, { timeoutMs: 120_000, intervalMs: 2, what: 'the scheduler to catch up' });
    const replaySeconds = (performance.now() - r0) / 1000;
    const heapMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    say(`replay: caught up in ${replaySeconds.toFixed(2)} s`);

    const out: ReplayResults = { events, writeSeconds, writePerSecond: events / writeSeconds, replaySeconds, perSecond: events / replaySeconds, heapMiB };
    // the caught-up leader writes a snapshot (ERRAND_SNAPSHOT_EVERY); a restart then starts from it
    try {
      await waitFor(() => sched.runtime.snapshotSeq >= info.state.last_seq, { timeoutMs: 20_000, what: 'a snapshot' });
      await sched.stop();
      await snc.close();
      const snc2 = await connectNats({ url: server.url, name: 'bench-replay-scheduler-2' });
      const s0 = performance.now();
      const again = await buildScheduler({ config, nc: snc2, log });
      await again.start();
      await waitFor(() => again.runtime.isCaughtUp, { timeoutMs: 60_000, intervalMs: 2, what: 'the restarted scheduler to catch up' });
      out.snapshot = { seq: again.runtime.snapshotSeq, restartMs: performance.now() - s0 };
      await again.stop();
      await snc2.close();
    } catch (err) {
      out.snapshot = { error: (err as Error).message };
      await sched.stop().catch(() => undefined);
      await snc.close().catch(() => undefined);
    }
    return out;
  } finally {
    await nc.close().catch(() => undefined);
    await server.stop();
  }
}
