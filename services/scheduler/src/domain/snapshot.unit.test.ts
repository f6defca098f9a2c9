import { describe, expect, it } from 'vitest';
import { makeEvent } from '@errand/contracts';
import { evolve, initialState } from './state.ts';
import { restoreSnapshot, snapshotPieces, takeSnapshot } from './snapshot.ts';

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

describe('snapshot pieces', () => {
  const at = new Date('2026-01-01T00:00:00.000Z');
  function stateWith(n: number) {
    const s = initialState();
    let seq = 0;
    for (let i = 0; i < n; i++) {
      const id = `t${i}`;
      const ids = { taskId: id, tenant: 't' };
      evolve(s, makeEvent('submitted', ids, at, { user: `u${i % 3}`, taskType: 'x', params: { i }, priority: 5, timeoutMs: 1, progressEveryMs: 1000, deliver: [] }), ++seq, 0);
      if (i % 2) evolve(s, makeEvent('queued', ids, at, { position: 0 }), ++seq, 0);
    }
    return s;
  }

  it.each([0, 1, 2, 3, 7, 9])('joined, are the snapshot as one JSON document (%i tasks, pieces of 3)', (n) => {
    const s = stateWith(n);
    const { seq, tasks, pieces } = snapshotPieces(s, (text) => text, 3);
    expect(seq).toBe(s.seq);
    expect(tasks).toBe(n);
    expect(pieces.join('')).toBe(JSON.stringify(takeSnapshot(s)));
    // every piece holds at most 3 tasks, and there is one piece more than the full ones
    expect(pieces.length).toBe(Math.ceil(n / 3) + 1);
    expect(restoreSnapshot(JSON.parse(pieces.join('')), 0).ready.order()).toEqual(s.ready.order());
  });

  it('are taken at once: a task changed after the call is not in them', () => {
    const s = stateWith(2);
    const { pieces } = snapshotPieces(s, (text) => text, 1);
    const before = pieces.join('');
    evolve(s, makeEvent('queued', { taskId: 't0', tenant: 't' }, at, { position: 0 }), s.seq + 1, 0);
    expect(pieces.join('')).toBe(before);
  });
});
