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
