import type { JsMsg } from '@nats-io/jetstream';
import type { EventLog } from '@errand/nats';
import type { Logger } from '@errand/runtime';
import type { Seen, TaskMemo } from '../domain/memo.ts';
import type { LruCache, Limiter } from '../adapters/queues.ts';
import type { NotifierSettings } from '../domain/settings.ts';
import type { SendDeps } from '../targets/send.ts';

/** One event message waiting in its task's queue. */
export interface Item {
  msg: JsMsg;
  seen: Seen;
}

/** What the event handler needs from the app. */
export interface HandlerDeps {
  log: EventLog;
  logger: Logger;
  settings: NotifierSettings;
  send: SendDeps;
  limiter: Limiter;
  memos: LruCache<TaskMemo>;
  loadPartial: (ref: string | undefined) => Promise<unknown>;
  /** aborted when the notifier stops or loses its lease */
  signal: () => AbortSignal;
  /** settle the message and stop keeping it alive */
  settle: (msg: JsMsg, how: 'ack' | 'nak' | 'term', delayMs?: number) => void;
  /** the log's last sequence when this replica began delivering: events up to it may be replays */
  catchUpSeq: () => number;
  now: () => number;
  random: () => number;
}

/** the one task key of every service (contracts); partition.ts imports it from here */
export { taskKey } from '@errand/contracts';
