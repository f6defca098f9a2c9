import { decodeEvent, subjects } from '@errand/contracts';
import type { Subscription } from '@nats-io/transport-node';
import { controlAction, type ControlAction } from '../domain/control.ts';
import type { RunningAttempt } from '../attempt.ts';
import type { WorkerDeps } from '../deps.ts';

/** The control side of one running attempt: its subscription and the history check. */
export interface Control {
  /** re-read the history after the last checked sequence and act on what it says */
  verify(): Promise<void>;
  /** the attempt's `started` is stored at `seq`: check from there on (and now, if something came early) */
  arm(seq: number): void;
  close(): void;
}

/**
 * Watch the task's subject (core NATS) while the attempt runs (INTERNALS.md
 * "Control of a running task"). A core message may be a write the stream
 * refused, so an event that would stop the attempt is acted on only once the
 * stored history confirms it.
 */
export function watchTask(a: RunningAttempt, deps: WorkerDeps): Control {
  let checking: Promise<void> | undefined;
  let again = false;
  let early = false;

  const act = (action: ControlAction) => {
    if (action.kind === 'cancel') {
      a.log.info('cancel requested; stopping the handler');
      a.endAborted('cancel', { discardPartial: action.discardPartial });
    } else if (action.kind === 'superseded') {
      a.silence(action.why);
    }
  };

  const check = async () => {
    const { tenant, taskId, attempt } = a.work;
    const after = await deps.events.history(tenant, taskId, a.lastVerifiedSeq);
    for (const { seq, event } of after) {
      a.lastVerifiedSeq = Math.max(a.lastVerifiedSeq, seq);
      if (a.ended) continue;
      const action = controlAction(attempt, event);
      if (action.kind !== 'ignore') act(action);
    }
  };

  const verify = (): Promise<void> => {
    if (checking) {
      again = true;
      return checking;
    }
    checking = (async () => {
      do {
        again = false;
        try {
          await check();
        } catch (err) {
          a.log.warn('could not read the task history', { err });
        }
      } while (again && !a.ended);
      checking = undefined;
    })();
    return checking;
  };

  const sub: Subscription = deps.nc.subscribe(subjects.event(a.work.tenant, a.work.taskId), {
    callback: (err, msg) => {
      if (err || a.ended) return;
      const d = decodeEvent(msg.data);
      if (!d.ok || controlAction(a.work.attempt, d.value).kind === 'ignore') return;
      if (a.lastVerifiedSeq === 0) early = true; // before our `started` was acknowledged
      else void verify();
    },
  });

  return {
    verify,
    arm: (seq) => {
      a.lastVerifiedSeq = seq;
      if (early) void verify();
    },
    close: () => {
      try {
        sub.unsubscribe();
      } catch {
        // the connection is already closed
      }
    },
  };
}
