import { describe, expect, it } from 'vitest';
import { makeEvent, type ErrandEvent, type TaskView } from '@errand/contracts';
import { describeEvent } from './describe.ts';
import { formatHistory, formatList, formatStatus, formatTop, miniBar, segments, table } from './cli-format.ts';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const t = { taskId: 'T1', tenant: 'acme' };

function view(o: Partial<TaskView> = {}): TaskView {
  return {
    id: 'T1', type: 'demo.sleep', tenant: 'acme', user: 'ada', priority: 5, state: 'running',
    progress: { percent: 40, message: 'step 4 of 10', etaMs: 90_000 }, attempt: 1,
    createdAt: at(0), queuedAt: at(5), startedAt: at(2_000), finishedAt: null, waitMs: 2_000, runMs: null, deliveries: [],
    ...o,
  };
}

const events: ErrandEvent[] = [
  makeEvent('submitted', t, at(0), { user: 'ada', taskType: 'demo.sleep', params: {}, priority: 5, timeoutMs: 60_000, progressEveryMs: 1000, deliver: [] }),
  makeEvent('queued', t, at(5), { position: 0 }),
  makeEvent('dispatched', t, at(10), { attempt: 1, pool: 'default' }),
  makeEvent('started', t, at(2_000), { attempt: 1, workerId: 'w1' }),
  makeEvent('progress', t, at(3_000), { attempt: 1, percent: 50 }),
  makeEvent('failed', t, at(5_000), { attempt: 1, error: { code: 'boom', message: 'disk full' }, willRetry: true }),
  makeEvent('retry-scheduled', t, at(5_000), { attempt: 2, notBefore: at(6_000) }),
  makeEvent('dispatched', t, at(6_000), { attempt: 2, pool: 'default' }),
  makeEvent('started', t, at(6_500), { attempt: 2, workerId: 'w2' }),
  makeEvent('completed', t, at(16_500), { attempt: 2, result: { ok: true } }),
];

describe('CLI formatting', () => {
  it('pads a table to its widest cells', () => {
    expect(table(['A', 'BB'], [['xxx', 'y'], ['z', 'w']])).toBe('A    BB\nxxx  y\nz    w');
  });

  it('lists tasks as a table with a bar, age and user', () => {
    const out = formatList([view(), view({ id: 'T2', state: 'completed', progress: { percent: 100, message: null, etaMs: null }, user: 'bob' })], T0 + 65_000, 'c1');
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+STATE\s+PROGRESS\s+AGE\s+USER$/);
    expect(lines[1]).toMatch(/^T1\s+demo\.sleep\s+running\s+████░░░░░░\s+40%\s+1m 05s ago\s+ada$/);
    expect(lines[2]).toContain('completed');
    expect(lines[2]).toContain('██████████ 100%');
    expect(out).toContain('errand list --cursor c1');
    expect(formatList([], T0)).toBe('No tasks.');
  });

  it("says a task's status in sentences, with why it waits", () => {
    const waiting = view({ state: 'queued', startedAt: null, waitMs: null, progress: { percent: 0, message: null, etaMs: null }, position: 3,
      waitingOn: { reason: 'tenant_limit', ahead: 3, message: '3 tasks ahead; all 3 slots of tenant acme are busy' } });
    const out = formatStatus(waiting, T0 + 10_000);
    expect(out).toContain('Task T1 (demo.sleep, user ada, priority 5) is queued.');
    expect(out).toContain('Waiting: 3 tasks ahead; all 3 slots of tenant acme are busy');
    const running = formatStatus(view(), T0 + 10_000);
    expect(running).toContain('40% step 4 of 10 · ETA 1m 30s');
    const done = formatStatus(view({ state: 'completed', runMs: 14_500, result: { ok: true } }), T0);
    expect(done).toContain('It waited 2s before it started and ran 15s.');
    expect(done).toContain('Result: {"ok":true}');
  });

  it('makes a timeline of each wait and run with durations', () => {
    const segs = segments(events, T0 + 20_000);
    expect(segs.map((s) => [s.kind, s.label, s.toMs - s.fromMs, s.outcome])).toEqual([
      ['wait', 'waited in the queue', 2_000, undefined],
      ['run', 'ran attempt 1', 3_000, 'failed: disk full'],
      ['wait', 'waited to retry', 1_500, undefined],
      ['run', 'ran attempt 2', 10_000, 'completed'],
    ]);
    const open = segments(events.slice(0, 4), T0 + 4_000);
    expect(open.at(-1)).toMatchObject({ kind: 'run', open: true, toMs: T0 + 4_000 });
  });

  it('prints history as the timeline, then the events without progress noise', () => {
    const out = formatHistory(events, T0 + 20_000, describeEvent);
    expect(out).toMatch(/Timeline:\n {2}… waited in the queue\s+2s\n/);
    expect(out).toMatch(/▶ ran attempt 2\s+10s {2}→ completed/);
    expect(out).not.toContain('50%');
    expect(out).toContain('1 progress events not shown');
    expect(out).toContain('+    17s  10:00:16.500  completed');
  });

  it('draws top: running bars, queue by priority, types with workers', () => {
    const out = formatTop({
      running: [view()],
      queued: [view({ id: 'Q1', state: 'queued', priority: 8 }), view({ id: 'Q2', state: 'queued', priority: 5 }), view({ id: 'Q3', state: 'queued', priority: 8 })],
      types: [{ name: 'demo.sleep', pool: 'default', paramsSchema: {}, defaults: { timeoutMs: 1, priority: 5, maxAttempts: 3 }, live: true, workers: 2, freeSlots: 7 } as never],
      now: T0 + 5_000,
    });
    expect(out).toContain('1 running, 3 queued');
    expect(out).toMatch(/T1\s+demo\.sleep\s+ada\s+██████░░░░░░░░░░\s+40%\s+ETA 1m 30s\s+3s/);
    expect(out).toMatch(/PRIORITY\s+TASKS\n\s+8\s+2\s+▇▇\n\s+5\s+1\s+▇/);
    expect(out).toMatch(/demo\.sleep\s+default\s+live\s+2\s+7/);
  });

  it('draws a mini bar', () => {
    expect(miniBar(55)).toBe('██████░░░░  55%');
  });
});
