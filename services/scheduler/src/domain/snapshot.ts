import { isTerminalState, type TaskRecord } from '@errand/contracts';
import { index, initialState, taskKey, type SchedState } from './state.ts';

export const SNAPSHOT_VERSION = 1;

/** What a snapshot keeps: every task that is not terminal, and the sequence it is valid at. */
export interface Snapshot {
  version: number;
  seq: number;
  tasks: TaskRecord[];
}

export function takeSnapshot(s: SchedState): Snapshot {
  const tasks: TaskRecord[] = [];
  for (const r of s.tasks.values()) if (!isTerminalState(r.state)) tasks.push(r);
  return { version: SNAPSHOT_VERSION, seq: s.seq, tasks };
}

/** A state from a snapshot; the log after `snapshot.seq` is then replayed on top. */
export function restoreSnapshot(snap: Snapshot, nowMs: number): SchedState {
  const s = initialState();
  s.seq = snap.seq;
  // in log order, so the ready queue keeps first come first served
  const ordered = [...snap.tasks].sort((a, b) => a.submitSeq - b.submitSeq);
  for (const r of ordered) {
    const key = taskKey(r.tenant, r.id);
    s.tasks.set(key, r);
    index(s, key, r, nowMs);
  }
  return s;
}
