import { decodeEvent, subjects } from '@errand/contracts';
import type { Subscription } from '@nats-io/transport-node';
import { controlAction } from '../domain/control.ts';
import type { RunningAttempt } from '../adapters/attempt.ts';
import type { WorkerDeps } from '../deps.ts';

/** The control side of one running attempt: its subscription and the history check. */
export interface Control {
  /** re-read the history after the last checked sequence and act on what it says */
  verify(): Promise<void>;
  /** the attempt has started (`RunningAttempt.markStarted`): check from there on (and now, if something came early) */
  arm(): void;
  close(): void;
}

/**
 * Watch the task's subject (core NATS) while the attempt runs (INTERNALS.md
 * "Control of a running task"). A core message may be a write the stream
 * refused, so an event that would stop the attempt is acted on only once the
 * stored history confirms it. What it reads moves the attempt's known last
 * sequence forward, so its next write is fenced on it and needs no read of
 * its own; once the attempt has ended by its own terminal event the writes'
 * own fence takes over (a read then may hold that event, not yet
 * acknowledged, and would take it for someone else's).
 *
 * The subscription is made only once the attempt has run `delayMs`: most
 * tasks of a busy system end sooner, and a subscription made and removed per
 * task costs every publish on the server (its interest cache is rebuilt).
 * Whatever came before the subscription is caught by reading the task's log
 * right after subscribing.
 */
export function watchTask(a: RunningAttempt, deps: WorkerDeps, delayMs = 50): Control {
  let checking: Promise<void> | undefined;
  let again = false;
  let sub: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const check = async () => {
    const { tenant, taskId } = a.work;
    const after = await deps.events.history(tenant, taskId, a.lastKnownSeq);
    if (!a.ended) a.observe(after);
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

  const subscribe = () => {
    if (closed || a.ended) return;
    sub = deps.nc.subscribe(subjects.event(a.work.tenant, a.work.taskId), {
      callback: (err, msg) => {
        if (err || a.ended) return;
        const d = decodeEvent(msg.data);
        if (!d.ok || controlAction(a.work.attempt, d.value).kind === 'ignore') return;
        void verify();
      },
    });
    // anything written between `started` and now
    void deps.events
      .lastSeq(a.work.tenant, a.work.taskId)
      .then((last) => (last > a.lastKnownSeq ? verify() : undefined))
      .catch((err: unknown) => a.log.warn('could not read the task history', { err }));
  };

  return {
    verify,
    arm: () => {
      if (delayMs <= 0) subscribe();
      else timer = setTimeout(subscribe, delayMs);
    },
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      try {
        sub?.unsubscribe();
      } catch {
        // the connection is already closed
      }
    },
  };
}
