import { makeEvent, type WorkMessage } from '@errand/contracts';
import { isWrongLastSequence } from '@errand/nats';
import type { Context } from '@errand/telemetry';
import { decideAfterConflict } from '../domain/control.ts';
import type { WorkerDeps } from '../deps.ts';

export type StartResult = { kind: 'started'; seq: number } | { kind: 'drop'; why: string };

const MAX_CONFLICTS = 5;

/**
 * Append `started` right after the attempt's `dispatched` (INTERNALS.md
 * "Dispatch and start"): a refused write is retried only while the task is
 * still dispatched at this attempt with no cancel requested; a duplicate means
 * another worker started it. Other publish failures throw (the caller naks).
 */
export async function appendStarted(
  w: WorkMessage,
  deps: WorkerDeps,
  trace: Context,
  resumedFrom: string | undefined,
): Promise<StartResult> {
  const started = makeEvent('started', w, new Date(), {
    attempt: w.attempt,
    workerId: deps.workerId,
    ...(resumedFrom ? { resumedFrom } : {}),
  });
  let expectLastSeq = w.dispatchSeq;
  for (let i = 0; i < MAX_CONFLICTS; i++) {
    try {
      const ack = await deps.events.append(started, { expectLastSeq, trace });
      if (ack.duplicate) return { kind: 'drop', why: 'already started (duplicate)' };
      return { kind: 'started', seq: ack.seq };
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    const after = await deps.events.history(w.tenant, w.taskId, w.dispatchSeq);
    const d = decideAfterConflict(w.attempt, after, w.dispatchSeq);
    if (d.kind === 'drop') return d;
    expectLastSeq = d.lastSeq;
  }
  return { kind: 'drop', why: `the task kept changing while starting (${MAX_CONFLICTS} tries)` };
}
