import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent } from '@errand/contracts';
import type { Command, Limits } from './decide.ts';
import { decide } from './decide.ts';
import { explain } from './explain.ts';
import { T0, testLimits, typeInfo } from './testkit.ts';
import { evolve, initialState, type SchedState } from './state.ts';

const limits = testLimits({ concurrency: 3, maxPendingPerUser: 100 });
const info = (name: string) => typeInfo(name, { timeoutMs: 60_000 });
const types = new Map(['demo.sleep', 'demo.report', 'mine.slow'].map((n) => [n, info(n)]));

interface Opts {
  tenant?: string;
  user?: string;
  type?: string;
  priority?: number;
}

/** A log of events, each with the next sequence. */
function logOf() {
  const events: { e: ErrandEvent; seq: number }[] = [];
  const add = (e: ErrandEvent) => events.push({ e, seq: events.length + 1 });
  const ev = (type: ErrandEvent['type'], id: string, payload: object, tenant = 'acme') => add(makeEvent(type, { taskId: id, tenant }, new Date(T0), payload as never));
  interface L {
    events: typeof events;
    submit(id: string, o?: Opts): L;
    queue(id: string, o?: Opts): L;
    run(id: string, o?: Opts): L;
    ev: typeof ev;
  }
  const l: L = {
    events,
    submit(id: string, o: Opts = {}) {
      ev('submitted', id, { user: o.user ?? 'u', taskType: o.type ?? 'demo.sleep', params: {}, priority: o.priority ?? 5, timeoutMs: 60_000, progressEveryMs: 10_000, deliver: [] }, o.tenant);
      return l;
    },
    queue(id: string, o: Opts = {}) {
      l.submit(id, o);
      ev('queued', id, { position: 0 }, o.tenant);
      return l;
    },
    run(id: string, o: Opts = {}) {
      l.queue(id, o);
      ev('dispatched', id, { attempt: 1, pool: 'default' }, o.tenant);
      ev('started', id, { attempt: 1, workerId: 'w' }, o.tenant);
      return l;
    },
    ev,
  };
  return l;
}

function given(l: ReturnType<typeof logOf>): SchedState {
  const s = initialState();
  for (const { e, seq } of l.events) evolve(s, e, seq, T0);
  return s;
}
const input = (state: SchedState, o: { lim?: Partial<Limits>; live?: string[]; now?: number; inflight?: Map<string, { cmd: Command }> } = {}) => ({
  state,
  limits: { ...limits, ...o.lim },
  types,
  live: new Set(o.live ?? ['demo.sleep', 'demo.report']),
  now: o.now ?? T0,
  inflight: o.inflight ?? new Map(),
  random: () => 0.5,
});
const why = (s: SchedState, keys: string[], o: Parameters<typeof input>[1] = {}) => Object.fromEntries(explain(input(s, o), keys.map((k) => `acme/${k}`)));

describe('explain (waitingOn)', () => {
  it('given a type without a live worker, then no_worker', () => {
    const s = given(logOf().queue('m', { type: 'mine.slow' }));
    expect(why(s, ['m'])['acme/m']).toEqual({ reason: 'no_worker', message: 'no live worker serves the task type mine.slow; it runs when one appears' });
  });

  it('given all slots busy, then concurrency with the tasks ahead', () => {
    const l = logOf().run('r1').run('r2').run('r3').queue('q1').queue('q2');
    const w = why(given(l), ['q1', 'q2']);
    expect(w['acme/q1']).toEqual({ reason: 'concurrency', ahead: 0, message: '0 tasks ahead; all 3 slots are busy' });
    expect(w['acme/q2']).toMatchObject({ reason: 'concurrency', ahead: 1, message: '1 task ahead; all 3 slots are busy' });
  });

  it('given the tenant limit reached, then tenant_limit names the tenant, before concurrency', () => {
    const l = logOf().run('r1').run('r2').queue('q1').queue('q2').queue('q3').queue('q4');
    const w = why(given(l), ['q4'], { lim: { tenantConcurrency: 2, concurrency: 2 } });
    expect(w['acme/q4']).toEqual({ reason: 'tenant_limit', ahead: 3, message: '3 tasks ahead; all 2 slots of tenant acme are busy' });
  });

  it('given a type limit reached, then type_limit', () => {
    const l = logOf().run('r1', { type: 'demo.report' }).queue('q1', { type: 'demo.report' });
    expect(why(given(l), ['q1'], { lim: { typeConcurrency: new Map([['demo.report', 1]]) } })['acme/q1']).toMatchObject({ reason: 'type_limit' });
  });

  it('given free slots taken by tasks of a higher priority, then priority with how many go first', () => {
    const l = logOf().queue('low', { priority: 2 }).queue('h1', { priority: 8 }).queue('h2', { priority: 8 });
    const s = given(l);
    const inp = input(s, { lim: { concurrency: 2 } });
    // what explain says is what decide does: the two high ones run, the low one waits
    expect(decide(inp).map((c) => c.event.taskId)).toEqual(['h1', 'h2']);
    expect(why(s, ['low', 'h1'], { lim: { concurrency: 2 } })).toEqual({
      'acme/low': { reason: 'priority', ahead: 2, message: '2 tasks ahead of a higher priority or an earlier turn go first' },
    });
  });

  it('given a retry in its backoff, then retry_backoff until its time; an undecided task says undecided', () => {
    const l = logOf().run('a').submit('b');
    l.ev('failed', 'a', { attempt: 1, error: { code: 'x', message: 'x' }, willRetry: true });
    l.ev('retry-scheduled', 'a', { attempt: 2, notBefore: new Date(T0 + 5_000).toISOString() });
    const w = why(given(l), ['a', 'b']);
    expect(w['acme/a']).toEqual({ reason: 'retry_backoff', until: new Date(T0 + 5_000).toISOString(), message: `attempt 2 waits for its backoff until ${new Date(T0 + 5_000).toISOString()}` });
    expect(w['acme/b']).toMatchObject({ reason: 'undecided' });
  });

  it('leaves out tasks that are not waiting', () => {
    expect(why(given(logOf().run('r')), ['r', 'nope'])).toEqual({});
  });
});
