import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import { DeciderSpecification } from '@errand/testing';
import { decide, retryDelay, type Command, type Limits } from './decide.ts';
import { evolve, initialState, beat, restoreTask, type SchedState } from './state.ts';
import { evolveTask, type TaskRecord } from '@errand/contracts';
import { T0, testLimits, typeInfo } from './testkit.ts';

const limits = testLimits();
const types = new Map([
  ['demo.sleep', typeInfo('demo.sleep')],
  ['demo.report', typeInfo('demo.report')],
]);

/** The log as a test writes it: each event gets the next sequence. */
class Log {
  events: { e: ErrandEvent; seq: number }[] = [];
  private at = T0;
  add(e: ErrandEvent) {
    this.events.push({ e, seq: this.events.length + 1 });
    return this;
  }
  submit(id: string, opts: { user?: string; priority?: number; type?: string; tenant?: string; timeoutMs?: number } = {}) {
    this.at += 1;
    return this.add(
      makeEvent('submitted', { taskId: id, tenant: opts.tenant ?? 't' }, new Date(this.at), {
        user: opts.user ?? 'u',
        taskType: opts.type ?? 'demo.sleep',
        params: {},
        priority: opts.priority ?? 5,
        timeoutMs: opts.timeoutMs ?? 600_000,
        progressEveryMs: 10_000,
        deliver: [],
      }),
    );
  }
  ev<T extends ErrandEvent['type']>(type: T, id: string, payload: object, at = this.at, tenant = 't') {
    return this.add(makeEvent(type, { taskId: id, tenant }, new Date(at), payload as never));
  }
  queue(id: string, opts: Parameters<Log['submit']>[1] = {}) {
    return this.submit(id, opts).ev('queued', id, { position: 0 }, this.at, opts.tenant);
  }
  run(id: string, attempt = 1, at = this.at, opts: Parameters<Log['submit']>[1] = {}) {
    return this.queue(id, opts)
      .ev('dispatched', id, { attempt, pool: 'default' }, at, opts.tenant)
      .ev('started', id, { attempt, workerId: 'w1' }, at, opts.tenant);
  }
}

function given(log: Log, now = T0): SchedState {
  const s = initialState();
  for (const { e, seq } of log.events) evolve(s, e, seq, now);
  return s;
}
const allLive = new Set(types.keys());
function when(state: SchedState, now = T0, lim: Limits = limits, inflight = new Map<string, { cmd: Command }>(), live: ReadonlySet<string> = allLive) {
  return decide({ state, limits: lim, types, live, now, inflight, random: () => 0.5 });
}

/** The decider as given/when/then sees it: the log's events folded, a moment and its facts decided on. */
interface When {
  now?: number;
  limits?: Partial<Limits>;
  live?: ReadonlySet<string>;
  inflight?: Map<string, { cmd: Command }>;
}
const spec = DeciderSpecification.for({
  initialState,
  evolve: (s: SchedState, x: { e: ErrandEvent; seq: number }) => {
    evolve(s, x.e, x.seq, T0);
    return s;
  },
  decide: (w: When, s: SchedState) => when(s, w.now ?? T0, { ...limits, ...w.limits }, w.inflight ?? new Map(), w.live ?? allLive),
});
const summary = (cmds: Command[]) => cmds.map((c) => `${c.event.type}:${c.event.taskId}`);

describe('admission', () => {
  it('queues a submitted task with its position, and checks the expected sequence', () => {
    const cmds = when(given(new Log().queue('a').submit('b')));
    expect(summary(cmds)).toContain('queued:b');
    const q = cmds.find((c) => c.event.taskId === 'b')!;
    expect(q.event).toMatchObject({ type: 'queued', position: 1 });
    expect(q.expectLastSeq).toBe(3);
  });

  it('refuses the 11th pending task of a user with queue_full, and accepts another user', () => {
    const log = new Log();
    for (let i = 0; i < 10; i++) log.queue(`a${i}`, { user: 'u1' });
    log.submit('a10', { user: 'u1' }).submit('b0', { user: 'u2' });
    const cmds = when(given(log), T0, { ...limits, concurrency: 0 });
    expect(cmds.find((c) => c.event.taskId === 'a10')!.event).toMatchObject({ type: 'rejected', code: 'queue_full' });
    expect(cmds.find((c) => c.event.taskId === 'b0')!.event.type).toBe('queued');
  });

  it('counts admissions under way against the limit', () => {
    const log = new Log();
    for (let i = 0; i < 9; i++) log.queue(`a${i}`, { user: 'u1' });
    log.submit('x', { user: 'u1' }).submit('y', { user: 'u1' });
    const s = given(log);
    const first = when(s, T0, { ...limits, concurrency: 0 });
    const inflight = new Map(first.filter((c) => c.event.taskId === 'x').map((c) => [c.key, { cmd: c }]));
    const second = when(s, T0, { ...limits, concurrency: 0 }, inflight);
    expect(second.find((c) => c.event.taskId === 'y')!.event).toMatchObject({ type: 'rejected', code: 'queue_full' });
  });

  it('gives room again once a pending task is dispatched or cancelled', () => {
    const log = new Log();
    for (let i = 0; i < 10; i++) log.queue(`a${i}`, { user: 'u1' });
    log.ev('cancel-requested', 'a0', { by: 'api' }).ev('cancelled', 'a0', {});
    log.submit('a10', { user: 'u1' });
    const cmds = when(given(log), T0, { ...limits, concurrency: 0 });
    expect(cmds.find((c) => c.event.taskId === 'a10')!.event.type).toBe('queued');
  });

  it('rejects a type no worker registered', () => {
    const cmds = when(given(new Log().submit('a', { type: 'nope.nope' })));
    expect(cmds[0]!.event).toMatchObject({ type: 'rejected', code: 'unknown_type' });
  });
});

describe('dispatch order', () => {
  it('runs high, normal, low when submitted low, high, normal', () => {
    const log = new Log().run('r').queue('low', { priority: 2 }).queue('high', { priority: 8 }).queue('normal', { priority: 5 });
    const s = given(log);
    expect(s.ready.order().map((k) => k.split('/')[1])).toEqual(['high', 'normal', 'low']);
    expect(when(s)).toEqual([]); // the one slot is taken
  });

  it('is first come first served within a priority, and alternates between users', () => {
    const log = new Log();
    for (const id of ['a1', 'a2', 'a3']) log.queue(id, { user: 'ua' });
    for (const id of ['b1', 'b2', 'b3']) log.queue(id, { user: 'ub' });
    expect(given(log).ready.order().map((k) => k.split('/')[1])).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
  });

  it('dispatches within the global limit and holds slots of dispatches under way', () => {
    const log = new Log().queue('a').queue('b').queue('c');
    const s = given(log);
    const cmds = when(s, T0, { ...limits, concurrency: 2 });
    expect(summary(cmds)).toEqual(['dispatched:a', 'dispatched:b']);
    expect(cmds[0]!.event).toMatchObject({ attempt: 1, pool: 'default' });
    const inflight = new Map(cmds.map((c) => [c.key, { cmd: c }]));
    expect(when(s, T0, { ...limits, concurrency: 2 }, inflight)).toEqual([]);
  });

  it('respects per-type and per-tenant limits, passing over what does not fit', () => {
    const log = new Log().queue('r1', { type: 'demo.report' }).queue('r2', { type: 'demo.report' }).queue('s1');
    const typeLimited = when(given(log), T0, { ...limits, concurrency: 5, typeConcurrency: new Map([['demo.report', 1]]) });
    expect(summary(typeLimited)).toEqual(['dispatched:r1', 'dispatched:s1']);
    const log2 = new Log().queue('x1', { tenant: 'A' }).queue('x2', { tenant: 'A' }).queue('y1', { tenant: 'B' });
    const tenantLimited = when(given(log2), T0, { ...limits, concurrency: 5, tenantConcurrency: 1 });
    expect(summary(tenantLimited)).toEqual(['dispatched:x1', 'dispatched:y1']);
  });

  it('frees the slot when the running task ends', () => {
    const log = new Log().run('a').queue('b');
    expect(when(given(log))).toEqual([]);
    log.ev('completed', 'a', { attempt: 1, result: 1 });
    expect(summary(when(given(log)))).toEqual(['dispatched:b']);
  });
});

describe('cancel', () => {
  it('cancels a queued task at once and a dispatched one before it starts', () => {
    const log = new Log().queue('q').ev('cancel-requested', 'q', { by: 'api' });
    log.queue('d').ev('dispatched', 'd', { attempt: 1, pool: 'default' }).ev('cancel-requested', 'd', { by: 'api' });
    const cmds = when(given(log), T0, { ...limits, concurrency: 0 });
    expect(summary(cmds).sort()).toEqual(['cancelled:d', 'cancelled:q']);
  });

  it('leaves a running task to its worker during the grace period, then cancels it with its partial result', () => {
    const log = new Log().run('a').ev('checkpoint', 'a', { attempt: 1, ref: 'obj:cp/t/a/1', bytes: 2 }).ev('cancel-requested', 'a', { by: 'api' }, T0);
    const s = given(log);
    expect(when(s, T0 + 9_000)).toEqual([]);
    const cmds = when(s, T0 + 10_000);
    expect(cmds[0]!.event).toMatchObject({ type: 'cancelled', attempt: 1, partial: 'obj:cp/t/a/1' });
  });

  it('keeps no partial when the cancel asked to discard it', () => {
    const log = new Log().run('a').ev('checkpoint', 'a', { attempt: 1, ref: 'obj:x', bytes: 2 }).ev('cancel-requested', 'a', { by: 'api', discardPartial: true }, T0);
    const cmds = when(given(log), T0 + 10_000);
    expect(cmds[0]!.event).not.toHaveProperty('partial');
  });
});

describe('timeouts, leases and retries', () => {
  it('times a running task out after its deadline and the slack', () => {
    const log = new Log().run('a', 1, T0, { timeoutMs: 5_000 });
    const s = given(log, T0);
    beat(s, 't', 'a', 1, T0 + 6_000);
    expect(when(s, T0 + 6_000)).toEqual([]);
    expect(when(s, T0 + 7_000)[0]!.event).toMatchObject({ type: 'timed-out', attempt: 1, timeoutMs: 5_000 });
  });

  it('declares the worker lost when its lease runs out, and a beat keeps it alive', () => {
    const s = given(new Log().run('a'), T0);
    beat(s, 't', 'a', 1, T0 + 15_000);
    expect(when(s, T0 + 30_000)).toEqual([]);
    expect(when(s, T0 + 35_000)[0]!.event).toMatchObject({ type: 'failed', attempt: 1, willRetry: true, error: { code: 'worker_lost' } });
  });

  it('fails for good when a lost worker used the last attempt', () => {
    const log = new Log().run('a', 3);
    expect(when(given(log, T0), T0 + 20_000)[0]!.event).toMatchObject({ type: 'failed', willRetry: false });
  });

  it('schedules a retry with backoff, then dispatches the next attempt ahead of queued tasks', () => {
    const log = new Log().run('a').queue('b').ev('failed', 'a', { attempt: 1, error: { code: 'x', message: 'x' }, willRetry: true });
    const s = given(log);
    const [rs] = when(s, T0, { ...limits, concurrency: 0 });
    expect(rs!.event).toMatchObject({ type: 'retry-scheduled', attempt: 2, notBefore: new Date(T0 + 1_000).toISOString() });
    log.add(rs!.event);
    const s2 = given(log);
    expect(summary(when(s2, T0 + 500))).toEqual(['dispatched:b']);
    const later = given(log);
    const cmds = when(later, T0 + 1_000);
    expect(cmds[0]!.event).toMatchObject({ type: 'dispatched', taskId: 'a', attempt: 2 });
  });

  it('ignores late events of a stale attempt', () => {
    const log = new Log().run('a').ev('failed', 'a', { attempt: 1, error: { code: 'worker_lost', message: '' }, willRetry: true });
    log.ev('retry-scheduled', 'a', { attempt: 2, notBefore: new Date(T0).toISOString() }).ev('dispatched', 'a', { attempt: 2, pool: 'default' });
    log.ev('completed', 'a', { attempt: 1, result: 'stale' });
    const s = given(log);
    expect(s.tasks.get('t/a')!.state).toBe('dispatched');
    expect(s.active.size).toBe(1);
  });

  it('backs off exponentially up to the cap', () => {
    const mid = () => 0.5;
    expect([2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(n, limits, mid))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('forgets a task once it ended, and on a user retry takes it back from its history and runs it at once', () => {
    const log = new Log().run('a').ev('failed', 'a', { attempt: 1, error: { code: 'x', message: 'x' }, willRetry: false });
    expect(given(log).tasks.has('t/a')).toBe(false);
    log.ev('retry-requested', 'a', { by: 'api' });
    const s = given(log);
    expect(s.tasks.has('t/a')).toBe(false); // the runtime reads the history back:
    let r: TaskRecord | undefined;
    for (const { e, seq } of log.events) r = evolveTask(r, e, seq);
    restoreTask(s, r!, T0);
    const cmds = when(s);
    expect(cmds[0]!.event).toMatchObject({ type: 'retry-scheduled', attempt: 2, notBefore: new Date(T0).toISOString() });
  });
});

describe('purity and fairness', () => {
  it('given queued tasks, when deciding, then the queue is left as it was and the same state gives the same answer', () => {
    const log = new Log().queue('a').queue('b', { user: 'v' }).queue('c');
    const s = given(log);
    const before = s.ready.order();
    const first = when(s, T0, { ...limits, concurrency: 2 });
    expect(summary(first)).toEqual(['dispatched:a', 'dispatched:b']);
    expect(s.ready.order()).toEqual(before);
    expect(when(s, T0, { ...limits, concurrency: 2 })).toEqual(first);
  });

  it('given two tenants with a user of the same name and another user, each with a burst, then their turns alternate', () => {
    const log = new Log();
    for (let i = 1; i <= 3; i++) log.queue(`A${i}`, { tenant: 'acme', user: 'sam' });
    for (let i = 1; i <= 3; i++) log.queue(`B${i}`, { tenant: 'beta', user: 'sam' });
    for (let i = 1; i <= 3; i++) log.queue(`V${i}`, { tenant: 'acme', user: 'vic' });
    // one slot: dispatch, fold the dispatch and the completion, decide again; the turn is a fact of the fold
    const ran: string[] = [];
    for (let i = 0; i < 9; i++) {
      let cmds: Command[] = [];
      spec(log.events)
        .when({})
        .then((out) => {
          cmds = out;
        });
      expect(cmds).toHaveLength(1);
      const d = cmds[0]!;
      ran.push(d.event.taskId);
      log.add(d.event).ev('completed', d.event.taskId, { attempt: 1, result: 1 }, undefined, d.event.tenant);
    }
    expect(ran).toEqual(['A1', 'B1', 'V1', 'A2', 'B2', 'V2', 'A3', 'B3', 'V3']);
  });

  it('given a dispatch written but not folded yet, then it keeps its turn and the next pick is another line', () => {
    const log = new Log().queue('a1', { user: 'a' }).queue('a2', { user: 'a' }).queue('b1', { user: 'b' });
    const s = given(log);
    const [d] = when(s);
    expect(d!.event.taskId).toBe('a1');
    spec(log.events)
      .when({ limits: { concurrency: 2 }, inflight: new Map([[d!.key, { cmd: d! }]]) })
      .then((out) => expect(summary(out)).toEqual(['dispatched:b1']));
  });
});

describe('routing by liveness', () => {
  it('given a task whose type has no live worker, then it stays queued, holds no slot, and the others run', () => {
    const log = new Log().queue('r', { type: 'demo.report' }).queue('s1').queue('s2');
    spec(log.events)
      .when({ limits: { concurrency: 1 }, live: new Set(['demo.sleep']) })
      .then((out) => expect(summary(out)).toEqual(['dispatched:s1']));
  });

  it('given the type goes live, then its task is dispatched', () => {
    const log = new Log().queue('r', { type: 'demo.report' });
    spec(log.events).when({ live: new Set() }).then([]);
    spec(log.events)
      .when({ live: new Set(['demo.report']) })
      .then((out) => expect(summary(out)).toEqual(['dispatched:r']));
  });

  it('admits a registered type without a live worker (it waits), and rejects one never registered', () => {
    spec(new Log().submit('a', { type: 'demo.report' }).submit('b', { type: 'nope.nope' }).events)
      .when({ live: new Set() })
      .then((out) => expect(out.map((c) => [c.event.taskId, c.event.type])).toEqual([['a', 'queued'], ['b', 'rejected']]));
  });
});

describe('pending without a live worker', () => {
  it('given a user whose 10 queued tasks wait for a worker, then the 11th is refused with queue_full', () => {
    const log = new Log();
    for (let i = 0; i < 10; i++) log.queue(`m${i}`, { user: 'u1', type: 'demo.report' });
    log.submit('m10', { user: 'u1', type: 'demo.report' });
    spec(log.events)
      .when({ live: new Set(['demo.sleep']) })
      .then((out) => expect(out.map((c) => c.event)).toEqual([expect.objectContaining({ taskId: 'm10', type: 'rejected', code: 'queue_full' })]));
  });
});

describe('a dispatch no worker takes', () => {
  it('given a dispatched attempt whose type has had no live worker for a lease, then it is lost and gives its slot back', () => {
    const log = new Log().queue('a', { type: 'demo.report' }).ev('dispatched', 'a', { attempt: 1, pool: 'default' });
    spec(log.events).when({ now: T0 + 19_000, live: new Set() }).then([]);
    spec(log.events)
      .when({ now: T0 + 20_000, live: new Set() })
      .then((out) =>
        expect(out[0]!.event).toMatchObject({ type: 'failed', attempt: 1, willRetry: true, error: { code: 'worker_lost', message: 'no live worker of task type demo.report started it for 20 s' } }),
      );
    // while its type is live, the worker is on its way
    spec(log.events).when({ now: T0 + 60_000 }).then([]);
  });
});
