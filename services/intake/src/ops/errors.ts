import { ErrandError } from '@errand/contracts';
import { PublishError, isNatsError } from '@errand/nats';

/**
 * Any failure as an `ErrandError`: trouble reaching NATS (or NATS down) is
 * `unavailable`, a lost optimistic-concurrency race is `conflict`, anything
 * else is `internal` (and the caller logs it).
 */
export function toErrandError(err: unknown, natsUp: boolean): ErrandError {
  if (err instanceof ErrandError) return err;
  if (err instanceof PublishError) {
    if (err.code === 'wrong_last_sequence') return new ErrandError('conflict', 'the task changed meanwhile; try again', { cause: err });
    return new ErrandError('unavailable', 'the event log cannot be reached; try again', { cause: err });
  }
  if (!natsUp || isNatsError(err)) {
    return new ErrandError('unavailable', 'NATS cannot be reached; try again', { cause: err });
  }
  return new ErrandError('internal', 'internal error', { cause: err });
}
