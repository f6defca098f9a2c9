/**
 * The NATS kit: connect, provision, the event log, blobs, a pipelined
 * publisher for the other streams, and typed errors (the process start-up
 * and the logger are in `@errand/runtime`). Listed by name: the
 * kit's internals (its JetStream handles, its publisher) stay inside.
 */
export { connectNats, serverFeatures, type ConnectOptions } from './connect.ts';
export { provision, type ProvisionOptions } from './provision.ts';
export { JetStreamPublisher, publishNotes, publishWithRetry, type PubAck, type PublishOptions } from './publisher.ts';
export { EventLog, type AppendOptions, type BadEventLogger } from './eventlog.ts';
export { type BatchFollowOptions, type Following, type FollowOptions, type LogBatchItem, type StoredEvent, type TaskEvents } from './readers.ts';
export {
  ERR_WRONG_LAST_SEQUENCE,
  PublishError,
  isConsumerNotFound,
  isKeyExists,
  isMessageNotFound,
  isNatsError,
  isNatsUnavailable,
  isNoResponders,
  isStreamNotFound,
  isTimeout,
  isWrongLastSequence,
  jetStreamCode,
} from './errors.ts';
export { Blobs, blobNameOf } from './blobs.ts';
export { ensureConsumer, ensureStream, isJetStreamCode, type EnsureConsumerOptions } from './consumers.ts';
export { LogWatch, logResetCount, lastLogReset, recordLogReset, resetReason, type LogMark, type LogReset, type LogWatchOptions } from './logwatch.ts';
