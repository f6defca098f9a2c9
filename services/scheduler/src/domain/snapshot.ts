import { isTerminalState } from '@errand/contracts';
import { index, initialState, taskKey, type SchedState } from './state.ts';
import { schedTaskOf, type SchedTask } from './task.ts';

/** 2: tasks in the scheduler's compact form (`SchedTask`); a snapshot of version 1 is ignored (the log is replayed). */
export const SNAPSHOT_VERSION = 2;

/** What a snapshot keeps: every task that is not terminal, and the sequence it is valid at. */
export interface Snapshot {
  version: number;
  seq: number;
  tasks: SchedTask[];
}

export function takeSnapshot(s: SchedState): Snapshot {
  const tasks: SchedTask[] = [];
  for (const r of s.tasks.values()) if (!isTerminalState(r.state)) tasks.push(r);
  return { version: SNAPSHOT_VERSION, seq: s.seq, tasks };
}

/** A snapshot as pieces of its JSON text: `seq` and the number of tasks it holds. */
export interface SnapshotPieces<T> {
  seq: number;
  tasks: number;
  pieces: T[];
}

/**
 * The snapshot of `s` now, as its JSON text in pieces of at most `perPiece`
 * tasks, each passed through `encode` as soon as it is made (the adapter
 * encodes it to bytes). Joined, the pieces are `JSON.stringify(takeSnapshot(s))`,
 * the same document, but it is never one string: with 100,000 tasks that
 * string was 17 MB, in the old generation, held with its encoded copy until
 * the store had it. Everything is read before this returns, so the pieces
 * are consistent with `s.seq` however long storing them takes.
 */
export function snapshotPieces<T>(s: SchedState, encode: (text: string) => T, perPiece = 500): SnapshotPieces<T> {
  const snap = takeSnapshot(s);
  // '{"version":2,"seq":N,"tasks":[' and ']}' around the tasks
  const whole = JSON.stringify({ version: snap.version, seq: snap.seq, tasks: [] });
  const open = whole.slice(0, -2);
  const pieces: T[] = [];
  for (let i = 0; i < snap.tasks.length; i += perPiece) {
    const part = snap.tasks.slice(i, i + perPiece).map((t) => JSON.stringify(t)).join(',');
    pieces.push(encode(i === 0 ? open + part : `,${part}`));
  }
  pieces.push(encode(snap.tasks.length === 0 ? whole : ']}'));
  return { seq: snap.seq, tasks: snap.tasks.length, pieces };
}

/** A state from a snapshot; the log after `snapshot.seq` is then replayed on top. */
export function restoreSnapshot(snap: Snapshot, nowMs: number): SchedState {
  const s = initialState();
  s.seq = snap.seq;
  // in log order, so the ready queue keeps first come first served
  const ordered = [...snap.tasks].sort((a, b) => a.submitSeq - b.submitSeq);
  for (const parsed of ordered) {
    // the same shape and the same interned names as a task folded from the log
    const r = schedTaskOf(parsed, s.names);
    const key = taskKey(r.tenant, r.id);
    s.tasks.set(key, r);
    index(s, key, r, nowMs);
  }
  return s;
}
