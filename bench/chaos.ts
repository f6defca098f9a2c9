/**
 * `pnpm chaos`: thousands of tasks through the whole system while every
 * service and nats-server are SIGKILLed or SIGSTOPped (then SIGCONTed) at
 * random, then the invariants checked over the whole log: every accepted
 * task exactly one terminal event, no attempt started twice, every delivery
 * recorded once, each final message on the wire once.
 *
 *   CHAOS_TASKS=3000 CHAOS_MINUTES=10 pnpm chaos
 *
 * Settings (environment): CHAOS_TASKS (default 1000), CHAOS_MINUTES (default
 * 3: how long faults are injected; the load is spread over that time),
 * CHAOS_EVERY_MS (mean time between faults, default 6000), CHAOS_SEED.
 * Exits 1 when an invariant is broken.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { STREAMS } from '@errand/contracts';
import { checkLog, steadyLoad, waitFor, type LogReport } from '@errand/testing';
import { BenchSystem, natsServerPid, type Service, type ServiceName } from './lib/system.ts';
import { say, sleep } from './lib/stats.ts';

const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) ? Number(v) : d);
const TASKS = num(process.env.CHAOS_TASKS, 1_000);
const MINUTES = num(process.env.CHAOS_MINUTES, 3);
const EVERY_MS = num(process.env.CHAOS_EVERY_MS, 6_000);
let seed = num(process.env.CHAOS_SEED, Date.now() % 2_147_483_647);
/** a small seeded generator (Park-Miller), so a run can be repeated */
const rand = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const between = (lo: number, hi: number) => Math.round(lo + rand() * (hi - lo));

const SUBJECT = 'errand.notify.default.chaos';
const COUNTS: Record<ServiceName, number> = { intake: 1, scheduler: 2, worker: 2, notifier: 1 };
type Target = ServiceName | 'nats-server';
type Fault = 'kill' | 'stop';

/** Inject one fault into `target`, and bring it back. */
async function inject(sys: BenchSystem, target: Target, fault: Fault): Promise<void> {
  if (target === 'nats-server') {
    if (fault === 'kill') {
      await sys.nats.kill();
      await sleep(between(500, 3_000));
      await sys.nats.restart();
    } else {
      const pid = natsServerPid(sys.nats.port);
      process.kill(pid, 'SIGSTOP');
      await sleep(between(1_000, 5_000));
      process.kill(pid, 'SIGCONT');
    }
    return;
  }
  const victims = sys.services.filter((s) => s.name === target && s.alive);
  const v: Service | undefined = victims.length ? pick(victims) : undefined;
  if (!v) return;
  if (fault === 'kill') {
    v.child.kill('SIGKILL');
    await new Promise((r) => v.child.once('exit', r));
    sys.services.splice(sys.services.indexOf(v), 1);
    await sleep(between(200, 3_000));
    sys.add(target);
  } else {
    v.child.kill('SIGSTOP');
    await sleep(between(1_000, 8_000));
    v.child.kill('SIGCONT');
  }
}

/** `nats` deliveries on the wire: messages in ERRAND_NOTIFY per Nats-Msg-Id (the delivery id). */
async function wireCounts(nc: NatsConnection): Promise<{ messages: number; duplicated: number }> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAMS.notify)).state.last_seq;
  const seen = new Map<string, number>();
  let messages = 0;
  if (last > 0) {
    const c = await jetstream(nc).consumers.get(STREAMS.notify, { deliver_policy: DeliverPolicy.All });
    const iter = await c.consume({ max_messages: 2_000 });
    for await (const m of iter) {
      messages++;
      const id = m.headers?.get('Nats-Msg-Id') ?? `seq-${m.seq}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (m.seq >= last) break;
    }
    await iter.close().catch(() => undefined);
  }
  return { messages, duplicated: [...seen.values()].filter((n) => n > 1).length };
}

async function main(): Promise<void> {
  say(`chaos: ${TASKS} tasks over ${MINUTES} min, a fault every ~${EVERY_MS} ms, seed ${seed}`);
  const sys = await BenchSystem.start({
    services: Object.entries(COUNTS).flatMap(([name, n]) => Array<ServiceName>(n).fill(name as ServiceName)),
    env: {
      ERRAND_CONCURRENCY: '40',
      ERRAND_WORKER_CONCURRENCY: '24',
      ERRAND_MAX_PENDING_PER_USER: '100000',
      ERRAND_LEASE_MS: '6000',
      ERRAND_HEARTBEAT_MS: '1000',
      ERRAND_CANCEL_GRACE_MS: '3000',
    },
  });
  const nc = await connect({ servers: sys.nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const faults: Record<string, number> = {};
  const t0 = Date.now();
  const load = steadyLoad({
    url: `http://127.0.0.1:${sys.port}`,
    total: TASKS,
    ratePerSec: TASKS / (MINUTES * 60 * 0.9),
    body: (i) => ({
      type: 'demo.sleep',
      // some fail their first attempt, so retries run through the faults too
      params: { durationMs: between(20, 1_500), steps: between(1, 4), ...(i % 7 === 0 ? { failAtStep: 1, failAttempts: 1 } : {}) },
      user: `u-${i % 50}`,
      deliver: [{ kind: 'nats', subject: SUBJECT }, { kind: 'memory' }],
    }),
  });
  const targets: Target[] = ['intake', 'scheduler', 'worker', 'notifier', 'nats-server'];
  while (Date.now() - t0 < MINUTES * 60_000) {
    await sleep(between(EVERY_MS / 2, (EVERY_MS * 3) / 2));
    const target = pick(targets);
    const fault: Fault = rand() < 0.6 ? 'kill' : 'stop';
    faults[`${fault} ${target}`] = (faults[`${fault} ${target}`] ?? 0) + 1;
    say(`chaos: ${fault} ${target} (${load.figures.accepted.length}/${TASKS} accepted)`);
    await inject(sys, target, fault).catch((err: unknown) => say(`chaos: fault failed: ${(err as Error).message}`));
  }
  const figures = await load.done;
  say(`chaos: all ${figures.accepted.length} tasks accepted after ${((Date.now() - t0) / 1000).toFixed(0)} s; waiting for every task to end`);
  const drainStart = Date.now();
  let report: LogReport | undefined;
  await waitFor(
    async () => {
      report = await checkLog(nc, figures.accepted);
      return report.notTerminal.length === 0 && report.finalNotDelivered.length === 0;
    },
    { timeoutMs: 300_000, intervalMs: 2_000, what: 'every task to end and be delivered' },
  ).catch((err: unknown) => say(`chaos: ${(err as Error).message}`));
  const wire = await wireCounts(nc);
  const r = report!;
  const figuresOut = {
    tasks: TASKS,
    accepted: figures.accepted.length,
    minutes: MINUTES,
    faults,
    events: r.events,
    outcomes: r.outcomes,
    missing: r.missing.length,
    notTerminal: r.notTerminal.length,
    openAt: r.openAt,
    multipleTerminal: r.multipleTerminal.length,
    lateTerminalEvents: r.lateTerminalEvents,
    startedTwice: r.startedTwice.length,
    deliveredTwice: r.deliveredTwice.length,
    finalNotDelivered: r.finalNotDelivered.length,
    natsMessagesOnTheWire: wire.messages,
    natsDuplicatesOnTheWire: wire.duplicated,
    submitFailedTries: figures.failedTries,
    longestSubmitPauseMs: figures.longestPauseMs,
    drainSeconds: Math.round((Date.now() - drainStart) / 1000),
  };
  console.log(JSON.stringify(figuresOut, null, 2));
  if (!r.ok) console.log('violations (first 5 each):', JSON.stringify({ notTerminal: r.notTerminal.slice(0, 5), multipleTerminal: r.multipleTerminal.slice(0, 5), startedTwice: r.startedTwice.slice(0, 5), deliveredTwice: r.deliveredTwice.slice(0, 5), finalNotDelivered: r.finalNotDelivered.slice(0, 5) }));
  await nc.close();
  await sys.stop();
  process.exit(r.ok && wire.duplicated === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
