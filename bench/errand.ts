import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@errand/contracts';
import { waitFor } from '@errand/testing';
import { api, ErrorTally } from './lib/api.ts';
import { CostMeter, type RunCost } from './lib/cost.ts';
import { dist, say, sleep, type Dist } from './lib/stats.ts';
import { BenchSystem, natsServerPid, pidsOf, type ServiceName } from './lib/system.ts';
import { EventWatch } from './lib/watch.ts';
import type { BenchOptions } from './lib/options.ts';

export interface ThroughputRun {
  tasks: number;
  seconds: number;
  perSecond: number;
  errors: string;
  cost: RunCost;
  /** how long after the last `completed` some consumer (the notifier) still had events to read or settle */
  settleSeconds?: number;
  /** the history projector: events behind the log at the last `completed`, and the time it took to catch up */
  projector?: { lagEvents: number; catchUpSeconds: number } | undefined;
}

export interface ErrandResults {
  /** batch submits (`submit-batch`, 1,000 a request), as BullMQ's addBulk */
  throughput?: ThroughputRun;
  /** one submit request per task */
  single?: ThroughputRun;
  latency?: { sent: number; start: Dist; completed: Dist; stages: [string, Dist][]; errors: string; cost?: RunCost };
  cancel?: { toCancelled: Dist; toReply: Dist; errors: string };
  timeout?: { lateness: Dist; byType: string; errors: string };
}

const USERS = 100;

/** The whole Errand system: nats-server and the four services as processes, driven over the NATS API. */
export async function runErrand(o: BenchOptions): Promise<ErrandResults> {
  const out: ErrandResults = {};
  say('errand: starting nats-server and the four services');
  const sys = await BenchSystem.start({
    // BENCH_ERRAND_SERVICES lets one measure without a service (e.g. the notifier) to see what it costs
    services: (process.env.BENCH_ERRAND_SERVICES ?? 'scheduler,worker,notifier,intake').split(',').map((x) => x.trim()) as ServiceName[],
    env: {
      ERRAND_CONCURRENCY: '2000',
      ERRAND_MAX_PENDING_PER_USER: '1000000',
      ERRAND_WORKER_CONCURRENCY: '2000',
      // the history store: the embedded one by default, or a PostgreSQL database
      ...(process.env.BENCH_DATABASE_URL ? { ERRAND_DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
    },
    ...(o.cpuProfDir ? { cpuProfDir: o.cpuProfDir } : {}),
  });
  const nc = await connect({ servers: sys.nats.url, name: 'errand-bench' });
  try {
    // a warm-up so the first submit of a measured run pays no start-up costs; the latency run
    // alone needs a longer one (after 200 tasks its first seconds ran at several times the p50
    // of a system warmed by the throughput runs: code not yet optimized, caches cold)
    await throughput(nc, 'warmup', o.skip.has('errand') ? 4_000 : 200, singleSubmits(100));
    const pids: Record<string, number> = Object.fromEntries(sys.services.map((s) => [s.name, s.pid]));
    pids['nats-server'] = natsServerPid(sys.nats.port);
    pids['bench client'] = process.pid;
    // the embedded history store's own process (the intake's child), when there is one
    const store = pidsOf(`${sys.dataDir}/history`)[0];
    if (store) pids['history store (PGlite)'] = store;
    const meter = await CostMeter.open(nc, pids);
    if (!o.skip.has('errand')) {
      await meter.settle(30);
      // the same system, the same number of tasks: batch submits first (the figure set against addBulk), then one request per task
      for (const [key, tenant, submit] of [
        ['throughput', 'tput', batchSubmits(o.batchInFlight)],
        ['single', 'single', singleSubmits(o.inFlight)],
      ] as const) {
        const before = await meter.mark();
        const run = await throughput(nc, tenant, o.tasks, submit);
        const projector = await projectorLag(nc, sys.port);
        const settleSeconds = await meter.settle(o.tasks / 200);
        out[key] = { ...run, projector, cost: await meter.done(before, run.tasks), ...(settleSeconds !== undefined ? { settleSeconds } : {}) };
      }
    }
    if (!o.skip.has('latency')) {
      await meter.settle(30);
      const before = await meter.mark();
      const run = await latency(nc, 'lat', o.rate, o.latencySeconds);
      await meter.settle(10);
      // what a steady trickle costs: no batch forms, each event is a wake-up of every process it passes
      out.latency = { ...run, cost: await meter.done(before, run.sent) };
    }
    if (!o.skip.has('control')) {
      out.cancel = await cancelLatency(nc, 'cancel', o.cancelTasks);
      out.timeout = await timeoutAccuracy(nc, 'timeout', o.timeoutTasks);
    }
    for (const s of sys.services) if (!s.alive) say(`errand: ${s.name} died during the run:\n${s.output.slice(-3000)}`);
    const warnings = sys.services.map((s) => ({ name: s.name, lines: s.output.split('\n').filter((l) => /"level":"(warn|error)"/.test(l)) }));
    for (const w of warnings) if (w.lines.length) say(`errand: ${w.name} logged ${w.lines.length} warnings/errors, e.g. ${w.lines[0]!.slice(0, 400)}`);
  } finally {
    await nc.close().catch(() => undefined);
    await sys.stop();
  }
  return out;
}

function submitBody(type: string, user: number, params: unknown = {}, extra: Record<string, unknown> = {}) {
  return { type, params, user: `u${user % USERS}`, ...extra };
}

/** Submits `n` tasks of a run; `submit(i)` gives the body of task `i`. */
type Submitter = (nc: NatsConnection, tenant: string, n: number, errors: ErrorTally) => Promise<void>;

/** One `submit` request per task, `inFlight` outstanding. */
function singleSubmits(inFlight: number): Submitter & { label: string } {
  const f = async (nc: NatsConnection, tenant: string, n: number, errors: ErrorTally) => {
    let next = 0;
    const lane = async () => {
      while (next < n) {
        const i = next++;
        const r = await api(nc, tenant, 'submit', submitBody('demo.noop', i));
        if (!r.ok) errors.add(r.error);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  };
  return Object.assign(f, { label: `one submit a request, ${inFlight} in flight` });
}

const BATCH = 1_000;

/** `submit-batch` requests of 1,000 tasks (the API's maximum), `inFlight` requests outstanding. */
function batchSubmits(inFlight: number): Submitter & { label: string } {
  const f = async (nc: NatsConnection, tenant: string, n: number, errors: ErrorTally) => {
    let next = 0;
    const lane = async () => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + BATCH);
        const tasks = Array.from({ length: next - from }, (_, k) => submitBody('demo.noop', from + k));
        const r = await api(nc, tenant, 'submit-batch', { tasks }, 60_000);
        if (!r.ok) {
          for (let k = 0; k < tasks.length; k++) errors.add(r.error);
          continue;
        }
        for (const item of r.body.items as { error?: { code?: string; message?: string } }[]) {
          if (item.error) errors.add(`${item.error.code}: ${item.error.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, Math.ceil(n / BATCH)) }, lane));
  };
  return Object.assign(f, { label: `submit-batch of ${BATCH}, ${inFlight} requests in flight` });
}

/**
 * How far the history projector was behind the log when a run's last task
 * completed (events), and how long it took to catch up from there (seconds):
 * the intake's /readyz says what the store has applied.
 */
async function projectorLag(nc: NatsConnection, port: number): Promise<{ lagEvents: number; catchUpSeconds: number } | undefined> {
  const applied = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    const body = r ? ((await r.json()) as { checks?: { readModel?: { appliedSeq?: number } } }) : undefined;
    return body?.checks?.readModel?.appliedSeq;
  };
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAMS.events)).state.last_seq;
  const now = await applied();
  if (now === undefined) return undefined;
  const t0 = performance.now();
  await waitFor(async () => ((await applied()) ?? 0) >= last, { timeoutMs: 300_000, intervalMs: 20, what: 'the history projector to catch up' });
  return { lagEvents: Math.max(0, last - now), catchUpSeconds: (performance.now() - t0) / 1000 };
}

/** `n` demo.noop tasks; from the first submit to the arrival of the last `completed`. */
async function throughput(nc: NatsConnection, tenant: string, n: number, submit: Submitter & { label: string }) {
  say(`errand: throughput, ${n} demo.noop tasks, ${submit.label}`);
  const watch = new EventWatch(nc, tenant);
  const errors = new ErrorTally();
  const t0 = performance.now();
  await submit(nc, tenant, n, errors);
  const expected = n - errors.total;
  await waitFor(() => watch.count('completed') >= expected, { timeoutMs: 180_000, intervalMs: 20, what: `${expected} completed events` }).catch(
    (err: unknown) => say(`errand: ${(err as Error).message}; counts ${JSON.stringify([...watch.counts])}`),
  );
  const seconds = ((watch.lastArrival.get('completed') ?? performance.now()) - t0) / 1000;
  watch.stop();
  const done = watch.count('completed');
  if (errors.total) say(`errand: ${errors.total} submits failed: ${errors.summary()}`);
  return { tasks: done, seconds, perSecond: done / seconds, errors: errors.summary() };
}

/** A steady `rate` of submits for `seconds`, paced by a timer; submit → started / completed on the client clock. */
async function latency(nc: NatsConnection, tenant: string, rate: number, seconds: number) {
  const total = rate * seconds;
  say(`errand: latency, ${total} tasks at ${rate}/s`);
  const watch = new EventWatch(nc, tenant);
  const errors = new ErrorTally();
  const sentAt = new Map<string, number>();
  const replies: Promise<void>[] = [];
  let sent = 0;
  const t0 = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    while (sent < due) {
      const at = performance.now();
      const i = sent++;
      replies.push(
        api(nc, tenant, 'submit', submitBody('demo.noop', i)).then((r) => {
          if (r.ok) sentAt.set(String(r.body.id), at);
          else errors.add(r.error);
        }),
      );
    }
    await sleep(1);
  }
  await Promise.all(replies);
  await waitFor(() => watch.countTasks(sentAt.keys(), 'completed') >= sentAt.size, { timeoutMs: 60_000, what: 'the latency run to complete' }).catch(
    (err: unknown) => say(`errand: ${(err as Error).message}`),
  );
  watch.stop();
  const start: number[] = [];
  const completed: number[] = [];
  // where the time goes: each step between consecutive events, as the client saw them arrive
  const steps = ['submit', 'submitted', 'queued', 'dispatched', 'started', 'completed'];
  const stageTimes = steps.slice(1).map(() => [] as number[]);
  for (const [id, at] of sentAt) {
    const s = watch.tasks.get(id)?.arrived;
    if (s?.has('started')) start.push(s.get('started')! - at);
    if (s?.has('completed')) completed.push(s.get('completed')! - at);
    const times = [at, ...steps.slice(1).map((t) => s?.get(t))];
    for (let k = 1; k < times.length; k++) {
      if (times[k] !== undefined && times[k - 1] !== undefined) stageTimes[k - 1]!.push(times[k]! - times[k - 1]!);
    }
  }
  const stages = stageTimes.map((v, k) => [`${steps[k]}->${steps[k + 1]}`, dist(v)] as [string, Dist]);
  return { sent: total, start: dist(start), completed: dist(completed), stages, errors: errors.summary() };
}

/** Long demo.sleep tasks, cancelled one by one once running: cancel request → `cancelled` event (proxy for the handler's signal). */
async function cancelLatency(nc: NatsConnection, tenant: string, n: number) {
  say(`errand: cancel latency, ${n} running demo.sleep tasks`);
  const watch = new EventWatch(nc, tenant);
  const errors = new ErrorTally();
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = await api(nc, tenant, 'submit', submitBody('demo.sleep', i, { durationMs: 60_000, steps: 60 }, { timeoutMs: 120_000 }));
      if (r.ok) ids.push(String(r.body.id));
      else errors.add(r.error);
    }),
  );
  await waitFor(() => watch.countTasks(ids, 'started') >= ids.length, { timeoutMs: 30_000, what: 'the long tasks to start' });
  await sleep(300); // past the first progress/checkpoint, into the handler's steady sleep
  const toReply: number[] = [];
  const cancelAt = new Map<string, number>();
  for (const id of ids) {
    const at = performance.now();
    cancelAt.set(id, at);
    void api(nc, tenant, 'cancel', { id, reason: 'bench' }).then((r) => {
      if (r.ok) toReply.push(performance.now() - at);
      else errors.add(r.error);
    });
    await sleep(20);
  }
  await waitFor(() => watch.countTasks(ids, 'cancelled') >= ids.length, { timeoutMs: 30_000, what: 'the cancelled events' }).catch(
    (err: unknown) => say(`errand: ${(err as Error).message}`),
  );
  watch.stop();
  const lat: number[] = [];
  for (const [id, at] of cancelAt) {
    const c = watch.tasks.get(id)?.arrived.get('cancelled');
    if (c !== undefined) lat.push(c - at);
  }
  return { toCancelled: dist(lat), toReply: dist(toReply), errors: errors.summary() };
}

/** demo.sleep tasks of 5 s with timeoutMs 500: lateness of `timed-out.at` vs `started.at + 500` (server clocks, same machine). */
async function timeoutAccuracy(nc: NatsConnection, tenant: string, n: number) {
  say(`errand: timeout accuracy, ${n} demo.sleep tasks with timeoutMs 500`);
  const watch = new EventWatch(nc, tenant, true);
  const errors = new ErrorTally();
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = await api(nc, tenant, 'submit', submitBody('demo.sleep', i, { durationMs: 5_000, steps: 10 }, { timeoutMs: 500 }));
      if (r.ok) ids.push(String(r.body.id));
      else errors.add(r.error);
    }),
  );
  await waitFor(() => watch.countTasks(ids, 'timed-out') >= ids.length, { timeoutMs: 30_000, what: 'the timed-out events' }).catch((err: unknown) =>
    say(`errand: ${(err as Error).message}`),
  );
  await sleep(200);
  watch.stop();
  const late: number[] = [];
  const terminal = new Map<string, number>();
  for (const id of ids) {
    const evs = watch.tasks.get(id)?.events ?? [];
    const started = evs.find((e) => e.type === 'started');
    const timedOut = evs.find((e) => e.type === 'timed-out');
    for (const e of evs) {
      if (['completed', 'failed', 'cancelled', 'timed-out'].includes(String(e.type))) {
        terminal.set(String(e.type), (terminal.get(String(e.type)) ?? 0) + 1);
      }
    }
    if (started && timedOut) late.push(Date.parse(String(timedOut.at)) - (Date.parse(String(started.at)) + 500));
  }
  return { lateness: dist(late), byType: [...terminal].map(([t, c]) => `${c} ${t}`).join(', '), errors: errors.summary() };
}
