import { describe, expect, it } from 'vitest';
import { makeEvent } from '@errand/contracts';
import { evolve, initialState } from './state.ts';
import { restoreSnapshot, takeSnapshot } from './snapshot.ts';

describe('snapshots', () => {
  it('restore to the same queue order, counts and sequence, without terminal tasks', () => {
    const s = initialState();
    let seq = 0;
    const at = new Date('2026-01-01T00:00:00.000Z');
    const ev = (type: string, id: string, payload: object) =>
      evolve(s, makeEvent(type as never, { taskId: id, tenant: 't' }, at, payload as never), ++seq, 0);
    const submit = (id: string, user: string, priority: number) =>
      ev('submitted', id, { user, taskType: 'x', params: {}, priority, timeoutMs: 1, progressEveryMs: 1000, deliver: [] });
    for (const [id, user, p] of [['a1', 'a', 5], ['a2', 'a', 5], ['b1', 'b', 5], ['h', 'c', 9], ['done', 'c', 5]] as const) {
      submit(id, user, p);
      ev('queued', id, { position: 0 });
    }
    ev('dispatched', 'done', { attempt: 1, pool: 'default' });
    ev('completed', 'done', { attempt: 1, result: 1 });
    const snap = JSON.parse(JSON.stringify(takeSnapshot(s)));
    const r = restoreSnapshot(snap, 0);
    expect(r.seq).toBe(seq);
    expect(r.tasks.has('t/done')).toBe(false);
    expect(r.ready.order()).toEqual(s.ready.order());
    expect(r.pendingPerUser).toEqual(s.pendingPerUser);
  });
});
