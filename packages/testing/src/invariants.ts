import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { STREAMS, applyTaskEvent, decodeEvent, evolveTask, isTerminalEvent, isTerminalState, type ErrandEvent, type TaskRecord } from '@errand/contracts';

interface TaskFacts {
  /** the task as the services fold it: a terminal event counts when it ends the task */
  record: TaskRecord;
  targets: number;
  terminals: number;
  /** terminal events recorded after the task had ended (a race lost: they change nothing) */
  lateTerminals: number;
  /** the type of its last event */
  last: string;
  started: Map<number, number>;
  /** target index -> a `delivered` / `delivery-failed` of a terminal event was recorded */
  finalDelivered: Set<number>;
}

/** What the whole event log says about the promises Errand makes (every task ends once, runs once, delivers once). */
export interface LogReport {
  events: number;
  invalidEvents: number;
  tasks: number;
  /** tasks by their terminal event's type (`open` = none yet) */
  outcomes: Record<string, number>;
  /** accepted tasks (given in `expect`) with no `submitted` in the log */
  missing: string[];
  /** tasks with no terminal event */
  notTerminal: string[];
  /** the type of the last event of each task with no terminal event, counted */
  openAt: Record<string, number>;
  /** tasks with more than one terminal event recorded (since a user's retry reopened them, if one did) */
  multipleTerminal: string[];
  /** of those, the terminal events that changed nothing (the first terminal event wins) */
  lateTerminalEvents: number;
  /** `taskId#attempt` started more than once */
  startedTwice: string[];
  /** delivery ids recorded `delivered` more than once */
  deliveredTwice: string[];
  /** `taskId#target` whose final message was never recorded delivered or failed */
  finalNotDelivered: string[];
  ok: boolean;
}

/**
 * Read the whole `ERRAND_EVENTS` stream (up to its last sequence now) and
 * check the invariants. `expect` lists the ids of tasks the API accepted.
 */
export async function checkLog(nc: NatsConnection, expect: Iterable<string> = []): Promise<LogReport> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAMS.events)).state.last_seq;
  const tasks = new Map<string, TaskFacts>();
  const delivered = new Map<string, number>();
  let events = 0;
  let invalidEvents = 0;
  if (last > 0) {
    const c = await jetstream(nc).consumers.get(STREAMS.events, { deliver_policy: DeliverPolicy.All });
    const iter = await c.consume({ max_messages: 2_000 });
    try {
      for await (const m of iter) {
        const d = decodeEvent(m.data);
        if (d.ok) {
          events++;
          note(tasks, delivered, d.value, m.seq);
        } else invalidEvents++;
        if (m.seq >= last) break;
      }
    } finally {
      await iter.close().catch(() => undefined);
      await c.delete().catch(() => undefined);
    }
  }
  return report(tasks, delivered, events, invalidEvents, expect);
}

function note(tasks: Map<string, TaskFacts>, delivered: Map<string, number>, e: ErrandEvent, seq: number): void {
  let t = tasks.get(e.taskId);
  if (e.type === 'submitted') {
    const record = evolveTask(undefined, e, seq);
    if (!record || t) return;
    t = { record, targets: e.deliver.length, terminals: 0, lateTerminals: 0, last: 'submitted', started: new Map(), finalDelivered: new Set() };
    tasks.set(e.taskId, t);
    return;
  }
  if (!t) return;
  if (e.type !== 'delivered' && e.type !== 'delivery-failed') t.last = e.type;
  if (e.type === 'retry-requested') t.terminals = 0; // a user's retry reopens the task
  const wasEnded = isTerminalState(t.record.state);
  applyTaskEvent(t.record, e, seq);
  if (isTerminalEvent(e)) {
    t.terminals++;
    // the first terminal event ends the task; a later one lost a race and changes nothing
    if (wasEnded || !isTerminalState(t.record.state)) t.lateTerminals++;
  }
  if (e.type === 'started') t.started.set(e.attempt, (t.started.get(e.attempt) ?? 0) + 1);
  if (e.type === 'delivered' || e.type === 'delivery-failed') {
    if (e.type === 'delivered') delivered.set(e.deliveryId, (delivered.get(e.deliveryId) ?? 0) + 1);
    if (['completed', 'failed', 'cancelled', 'timed-out', 'rejected'].includes(e.of)) t.finalDelivered.add(e.target.index);
  }
}

function report(tasks: Map<string, TaskFacts>, delivered: Map<string, number>, events: number, invalidEvents: number, expect: Iterable<string>): LogReport {
  const r: LogReport = {
    events,
    invalidEvents,
    tasks: tasks.size,
    outcomes: {},
    missing: [],
    notTerminal: [],
    openAt: {},
    multipleTerminal: [],
    lateTerminalEvents: 0,
    startedTwice: [],
    deliveredTwice: [],
    finalNotDelivered: [],
    ok: false,
  };
  for (const id of expect) if (!tasks.has(id)) r.missing.push(id);
  for (const [id, t] of tasks) {
    const outcome = isTerminalState(t.record.state) ? t.record.state : 'open';
    r.outcomes[outcome] = (r.outcomes[outcome] ?? 0) + 1;
    if (!isTerminalState(t.record.state)) {
      r.notTerminal.push(id);
      r.openAt[t.last] = (r.openAt[t.last] ?? 0) + 1;
    }
    if (t.terminals > 1) r.multipleTerminal.push(id);
    r.lateTerminalEvents += t.lateTerminals;
    for (const [attempt, n] of t.started) if (n > 1) r.startedTwice.push(`${id}#${attempt}`);
    if (isTerminalState(t.record.state)) for (let i = 0; i < t.targets; i++) if (!t.finalDelivered.has(i)) r.finalNotDelivered.push(`${id}#${i}`);
  }
  for (const [id, n] of delivered) if (n > 1) r.deliveredTwice.push(id);
  r.ok = [r.missing, r.notTerminal, r.multipleTerminal, r.startedTwice, r.deliveredTwice, r.finalNotDelivered].every((a) => a.length === 0);
  return r;
}
