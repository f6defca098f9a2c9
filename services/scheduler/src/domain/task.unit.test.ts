import { describe, expect, it } from 'vitest';
import { evolveTask, makeEvent, type ErrandEvent, type TaskRecord } from '@errand/contracts';
import { evolve, initialState } from './state.ts';
import { takeSnapshot } from './snapshot.ts';
import type { SchedTask } from './task.ts';
import { T0 } from './testkit.ts';

const at = new Date(T0);
const submitted = (id: string, user = 'u') =>
  makeEvent('submitted', { taskId: id, tenant: 't' }, at, {
    user,
    taskType: 'demo.sleep',
    params: { big: 'x'.repeat(10_000) },
    priority: 5,
    timeoutMs: 60_000,
    progressEveryMs: 10_000,
    deliver: [{ kind: 'webhook', url: 'https://example.com/hook' }] as never,
    metadata: { note: 'y'.repeat(1_000) },
  });
const ev = (type: ErrandEvent['type'], id: string, payload: object) => makeEvent(type, { taskId: id, tenant: 't' }, at, payload as never);

describe('the scheduler keeps a compact task', () => {
  it('given a queued task, then its entry holds no params, targets, metadata or progress, and its names are shared', () => {
    const s = initialState();
    // parsed like the log's events: each name a string of its own
    const parsed = (e: ErrandEvent) => JSON.parse(JSON.stringify(e)) as ErrandEvent;
    evolve(s, parsed(submitted('a')), 1, T0);
    evolve(s, parsed(submitted('b')), 2, T0);
    evolve(s, parsed(ev('queued', 'a', { position: 0 })), 3, T0);
    const a = s.tasks.get('t/a')!;
    expect(Object.keys(a).sort()).toEqual(
      [
        'id', 'tenant', 'user', 'type', 'priority', 'timeoutMs', 'state', 'attempt', 'fence', 'pool', 'dispatchSeq', 'startedAt',
        'cancelRequestedAt', 'discardPartial', 'notBefore', 'checkpointRef', 'error', 'lastSeq', 'submitSeq',
      ].sort(),
    );
    expect(JSON.stringify(a).length).toBeLessThan(200);
    expect(JSON.stringify(takeSnapshot(s)).length).toBeLessThan(500);
    expect(a.state).toBe('queued');
    const b = s.tasks.get('t/b')!;
    // interned: `Names` returns the first copy it saw (identity of strings is not observable, the Map's is)
    expect(s.names.of(JSON.parse('"demo.sleep"') as string)).toBe(a.type);
    expect(b.type).toBe(a.type);
  });

  it('folds the same scheduling fields as the full record of contracts', () => {
    const s = initialState();
    const log: ErrandEvent[] = [
      submitted('a'),
      ev('queued', 'a', { position: 0 }),
      ev('dispatched', 'a', { attempt: 1, pool: 'gpu' }),
      ev('started', 'a', { attempt: 1, workerId: 'w' }),
      ev('checkpoint', 'a', { attempt: 1, ref: 'obj:c1', percent: 10 }),
      ev('failed', 'a', { attempt: 1, error: { code: 'x', message: 'boom' }, willRetry: true }),
      ev('retry-scheduled', 'a', { attempt: 2, notBefore: new Date(T0 + 1000).toISOString() }),
      ev('cancel-requested', 'a', { discardPartial: true, by: 'api' }),
    ];
    let full: TaskRecord | undefined;
    log.forEach((e, i) => {
      full = evolveTask(full, e, i + 1);
      evolve(s, e, i + 1, T0);
      const t: SchedTask = s.tasks.get('t/a')!;
      const same = Object.fromEntries(Object.keys(t).map((k) => [k, (full as unknown as Record<string, unknown>)[k]]));
      expect({ ...t }, `after ${e.type}`).toEqual(same);
    });
  });
});
