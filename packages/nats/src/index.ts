export * from './connect.ts';
export * from './provision.ts';
export * from './publisher.ts';
export * from './eventlog.ts';
export * from './errors.ts';
export * from './logger.ts';
export * from './blobs.ts';
export * from './service.ts';
export { LogWatch, logResetCount, lastLogReset, recordLogReset, resetReason, type LogMark, type LogReset, type LogWatchOptions } from './logwatch.ts';
