import { JetStreamApiCodes, JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/nats-core';

/**
 * Errors of the NATS kit, and the one place that tells NATS errors apart:
 * by their class and JetStream's numeric code (`JetStreamApiCodes`), never by
 * a regular expression over the message (STYLE.md, "Errors").
 */

/** Why a publish through `JetStreamPublisher` failed; says whether trying again may help. */
export class PublishError extends Error {
  override name = 'PublishError';
  constructor(
    message: string,
    readonly code: 'timeout' | 'no_responders' | 'wrong_last_sequence' | 'api_error' | 'closed',
    readonly retryable: boolean,
    readonly errCode?: number,
  ) {
    super(message);
  }
}

/** JetStream's error code for a failed `Nats-Expected-Last-Subject-Sequence` check. */
export const ERR_WRONG_LAST_SEQUENCE: number = JetStreamApiCodes.StreamWrongLastSequence;

/**
 * The status code of a JetStream status error (a direct get's 404, a pull's
 * 408/409): `JetStreamStatusError`, which the client's public entry exports
 * only as its base class `JetStreamError`.
 */
function statusCode(err: unknown): number | undefined {
  if (!(err instanceof JetStreamError) || err instanceof JetStreamApiError) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The JetStream API code of an error (`err_code`, e.g. 10071), or undefined when it has none. */
export function jetStreamCode(err: unknown): number | undefined {
  if (err instanceof JetStreamApiError) return err.code;
  if (err instanceof PublishError) return err.errCode;
  return undefined;
}

/**
 * A lost optimistic-concurrency check: an expected last (subject) sequence
 * that no longer holds. Covers our publisher's `PublishError`, and the
 * client's `JetStreamApiError` (a KV `create` of a key that exists, or an
 * `update` at a stale revision, both fail this way).
 */
export function isWrongLastSequence(err: unknown): boolean {
  if (err instanceof PublishError) return err.code === 'wrong_last_sequence';
  const code = jetStreamCode(err);
  return code === JetStreamApiCodes.StreamWrongLastSequence || code === JetStreamApiCodes.StreamWrongLastSequenceUnknown;
}

/** A KV `create` refused because the key exists (or an `update` lost its race): the same check as above. */
export const isKeyExists = isWrongLastSequence;

/** The stream does not exist (code 10059). */
export function isStreamNotFound(err: unknown): boolean {
  return jetStreamCode(err) === JetStreamApiCodes.StreamNotFound;
}

/**
 * A create that lost a race with the same create elsewhere: the stream (or
 * bucket) appeared between the client's look and its add, and the server
 * refused the add as a subject overlap (10065) or a name in use (10058).
 * Looking again finds it.
 */
export function isCreateRace(err: unknown): boolean {
  const code = jetStreamCode(err);
  return code === 10065 || code === 10058;
}

/** The consumer does not exist (code 10014). */
export function isConsumerNotFound(err: unknown): boolean {
  return jetStreamCode(err) === JetStreamApiCodes.ConsumerNotFound;
}

/** A get of a message that is not there: API code 10037, or a direct get's 404 status. */
export function isMessageNotFound(err: unknown): boolean {
  if (statusCode(err) === 404) return true;
  return jetStreamCode(err) === JetStreamApiCodes.NoMessageFound;
}

/** Nobody answered a request (no subscriber, or no stream for a publish): 503 "no responders". */
export function isNoResponders(err: unknown): boolean {
  if (err instanceof NoRespondersError) return true;
  if (err instanceof RequestError) return err.isNoResponders();
  if (err instanceof PublishError) return err.code === 'no_responders';
  return statusCode(err) === 503;
}

/** A request or publish that got no answer in time. */
export function isTimeout(err: unknown): boolean {
  if (err instanceof TimeoutError) return true;
  if (err instanceof PublishError) return err.code === 'timeout';
  return err instanceof RequestError && err.cause instanceof TimeoutError;
}

/**
 * Trouble reaching NATS rather than a refusal: timeouts, no responders, a
 * closed, draining or failed connection. Worth trying
 * again later; callers answer `unavailable`.
 */
export function isNatsUnavailable(err: unknown): boolean {
  if (err instanceof PublishError) return err.retryable || err.code === 'closed';
  return (
    isTimeout(err) ||
    isNoResponders(err) ||
    err instanceof ClosedConnectionError ||
    err instanceof DrainingConnectionError ||
    err instanceof ConnectionError ||
    err instanceof RequestError
  );
}

/** Any error the NATS client or this kit raised (as opposed to a bug or a refusal of ours). */
export function isNatsError(err: unknown): boolean {
  return isNatsUnavailable(err) || err instanceof JetStreamError || err instanceof JetStreamApiError || err instanceof PublishError;
}
