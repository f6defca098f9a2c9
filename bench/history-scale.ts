/**
 * The scale acceptance of the history store (`pnpm bench:history`):
 *   a log of N events (N/5 finished no-op tasks, default 2,000,000) written
 *   straight into ERRAND_EVENTS; the system started on it and the intake's
 *   projector timed until the store has caught up (its rate printed); then a
 *   restart of every service timed to ready, each process's RSS, and the
 *   latency of a status of the oldest task, a filtered list and /metrics.
 * Options: --events N, --pg (PostgreSQL on this machine instead of the embedded store),
 *   --dist (the services from their build, as in production: run `pnpm build` first).
 */
import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@errand/contracts';
import { provision } from '@errand/nats';
import { createTestDatabase, waitFor, type TestDatabase } from '@errand/testing';
import { BenchSystem, pidsOf, type ServiceName } from './lib/system.ts';
import { say, timed } from './lib/stats.ts';
import { table } from './lib/table.ts';
import { lifecycle, writeLifecycles } from './replay.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const events = Number(arg('--events') ?? 2_000_000);
const usePg = process.argv.includes('--pg');
const fromDist = process.argv.includes('--dist');
const SERVICES: ServiceName[] = ['intake', 'scheduler', 'worker', 'notifier'];

/** RSS and peak RSS (MiB) of a process. */
function memoryOf(pid: number): [string, string] {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return [(kb('VmRSS') / 1024).toFixed(0), (kb('VmHWM') / 1024).toFixed(0)];
}

/**
 * Where a restart's time goes: when the intake first answered /readyz, and when
 * each of its checks first passed (`types` waits for a worker to register the
 * built-in types; `readModel` for the store to reach the log's end), in ms after `r0`.
 */
function watchReadiness(base: string, r0: number): { stop(): string } {
  const seen = new Map<string, number>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const r = await fetch(`${base}/readyz`).catch(() => undefined);
      if (r) {
        if (!seen.has('http')) seen.set('http', performance.now() - r0);
        const body = (await r.json().catch(() => ({}))) as { checks?: Record<string, { ok: boolean }> };
        for (const [k, c] of Object.entries(body.checks ?? {})) if (c.ok && !seen.has(k)) seen.set(k, performance.now() - r0);
      }
      await new Promise((res) => setTimeout(res, 25));
    }
  })();
  return {
    stop() {
      stopped = true;
      // the readiness wait can see the first answer before this watcher does
      if (seen.size === 0) return 'ready before this watcher saw an answer';
      return [...seen].map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(', ');
    },
  };
}

async function main(): Promise<void> {
  let db: TestDatabase | undefined;
  if (usePg) db = await createTestDatabase('errand_bench');
  const sys = await BenchSystem.start({ services: [], fromDist, env: { LOG_LEVEL: 'info', ...(db ? { ERRAND_DATABASE_URL: db.url } : {}) } });
  const base = `http://127.0.0.1:${sys.port}`;
  try {
    const nc = await connect({ servers: sys.nats.url, name: 'bench-history-writer' });
    await provision(nc);
    const tasks = Math.ceil(events / 5);
    say(`history: writing ${tasks * 5} events (${tasks} finished tasks) into ${STREAMS.events}`);
    const t0 = performance.now();
    const start = Date.now() - 24 * 3_600_000;
    const w = await writeLifecycles(nc, 'default', tasks, start, 'history', 100_000);
    if (w.failed) say(`history: ${w.failed} writes failed (${w.lastError})`);
    const info = await (await jetstreamManager(nc)).streams.info(STREAMS.events);
    await nc.close();
    say(`history: ${info.state.messages} events written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const p0 = performance.now();
    const intake = sys.add('intake');
    // caught up = the readiness check of the history store (the others wait for a worker, not started yet)
    await waitFor(
      async () => {
        if (!intake.alive) throw new Error(`the intake exited: ${intake.output.slice(-2000)}`);
        const r = await fetch(`${base}/readyz`).catch(() => undefined);
        const body = r ? ((await r.json()) as { checks?: { readModel?: { ok: boolean } } }) : undefined;
        return body?.checks?.readModel?.ok === true;
      },
      { timeoutMs: 60 * 60_000, intervalMs: 200, what: 'the history store to catch up' },
    );
    const projectS = (performance.now() - p0) / 1000;
    // the projecting intake's own peak, and its store's, before the restart
    const projectingPeak = [`intake ${intake.memory().peakMiB.toFixed(0)}`, ...pidsOf('pglite-child').map((pid) => `history store (PGlite) ${memoryOf(pid)[1]}`)].join(', ');
    const caught = /"eventsPerSecond":(\d+)/.exec(intake.output.split('\n').find((l) => l.includes('caught up with the event log')) ?? '');
    say(`history: peak RSS while projecting (MiB): ${projectingPeak}`);
    say(`history: projected in ${projectS.toFixed(1)} s (${Math.round(info.state.messages / projectS)} events/s; the projector says ${caught?.[1] ?? '?'} events/s)`);
    for (const name of SERVICES.slice(1)) sys.add(name);
    await sys.intakeReady();

    // restart every service on the caught-up store
    await Promise.all(sys.services.map((s) => s.stop()));
    sys.services.length = 0;
    const r0 = performance.now();
    for (const name of SERVICES) sys.add(name);
    const firstOk = watchReadiness(base, r0);
    await sys.intakeReady(120_000);
    const restartMs = performance.now() - r0;
    say(`history: every service restarted, ready in ${restartMs.toFixed(0)} ms (${firstOk.stop()})`);

    const oldest = lifecycle('default', 0, start)[0]!.taskId;
    const status = await timed(7, async () => {
      const r = await fetch(`${base}/v1/tasks/${oldest}`);
      if (r.status !== 200) throw new Error(`status of the oldest task: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    });
    const list = await timed(7, async () => {
      const r = await fetch(`${base}/v1/tasks?state=completed&user=u7&limit=50`);
      if (r.status !== 200) throw new Error(`filtered list: ${r.status}`);
      await r.arrayBuffer();
    });
    const metrics = await timed(7, async () => {
      const r = await fetch(`${base}/metrics`);
      if (r.status !== 200) throw new Error(`/metrics: ${r.status}`);
      await r.arrayBuffer();
    });
    const rows = sys.services.map((s) => [s.name, s.memory().rssMiB.toFixed(0), s.memory().peakMiB.toFixed(0)]);
    // the embedded store runs in a process of its own, the intake's child
    for (const pid of pidsOf('pglite-child')) rows.push(['history store (PGlite)', ...memoryOf(pid)]);
    process.stdout.write(
      `\n${table(
        ['figure', 'value', 'target'],
        [
          ['events in the log', String(info.state.messages), ''],
          ['history store', db ? 'PostgreSQL' : 'embedded (PGlite)', ''],
          ['services run from', fromDist ? 'their build (dist)' : 'sources (tsx)', ''],
          ['projection, events/s', String(Math.round(info.state.messages / projectS)), 'printed'],
          ['peak RSS while projecting, MiB', projectingPeak, ''],
          ['restart of every service to ready, ms', restartMs.toFixed(0), '< 5000'],
          ['status of the oldest task, ms (median / max)', `${status.medianMs.toFixed(1)} / ${status.maxMs.toFixed(1)}`, '< 100'],
          ['filtered list, ms (median / max)', `${list.medianMs.toFixed(1)} / ${list.maxMs.toFixed(1)}`, '< 100'],
          ['/metrics, ms (median / max)', `${metrics.medianMs.toFixed(1)} / ${metrics.maxMs.toFixed(1)}`, '< 100'],
        ],
      )}\n${table(['process', 'RSS MiB', 'peak MiB (since restart)'], rows)}\n`,
    );
  } finally {
    await sys.stop();
    await db?.drop();
  }
}

await main();
