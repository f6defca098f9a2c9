import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeJson, heartbeatSchema, subjects } from '@errand/contracts';
import type { Logger } from '@errand/runtime';

/** Workers' liveness beats (core NATS, one message per worker listing its attempts). */
export function subscribeHeartbeats(
  nc: NatsConnection,
  logger: Logger,
  onBeat: (tenant: string, taskId: string, attempt: number) => void,
): Subscription {
  return nc.subscribe(subjects.heartbeat, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const hb = heartbeatSchema.parse(decodeJson(msg.data));
        for (const x of hb.tasks) onBeat(x.tenant, x.taskId, x.attempt);
      } catch (e) {
        logger.warn('ignoring an invalid heartbeat', { error: (e as Error).message });
      }
    },
  });
}
