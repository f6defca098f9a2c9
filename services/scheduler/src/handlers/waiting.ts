import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeJson, encodeJson, subjects, waitingRequestSchema, type WaitingOn, type WaitingReply } from '@errand/contracts';
import type { Logger } from '@errand/runtime';

/**
 * Answers the intake's `subjects.waiting` requests (why these tasks wait)
 * with `explain`'s answer. Only the leader subscribes: a standby's state may
 * lag, and the leader is the one whose decisions the answer foretells.
 */
export function answerWaiting(
  nc: NatsConnection,
  logger: Logger,
  explain: (tasks: { tenant: string; id: string }[]) => Map<string, WaitingOn>,
): Subscription {
  return nc.subscribe(subjects.waiting, {
    callback: (err, msg) => {
      if (err) return;
      const req = waitingRequestSchema.safeParse(safeJson(msg.data));
      if (!req.success) {
        logger.warn('ignoring an invalid waiting request', { error: req.error.message });
        msg.respond(encodeJson({ items: {} } satisfies WaitingReply));
        return;
      }
      const found = explain(req.data.tasks);
      const reply: WaitingReply = { items: Object.fromEntries(found) };
      msg.respond(encodeJson(reply));
    },
  });
}

function safeJson(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}
