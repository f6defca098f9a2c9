export { BadCursor, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, StaleProjectorError } from './types.ts';
export type { Before, ExpiredTask, HistogramSeries, HistoryStore, ListFilter, ListPage, LogItem, MetricsSnapshot, TaskChange, TypeMetrics } from './types.ts';
export { openHistoryStore, type OpenHistoryStoreOptions } from './store.ts';
export { HistoryStoreError } from './errors.ts';
export { BUCKETS } from './buckets.ts';
export { countEvent, type DeliveryOutcome, type MetricsSink } from './metrics.ts';
export { decodeCursor, encodeCursor } from './cursor.ts';
export { Window, percentile } from './stats.ts';
export { retentionCutoff } from './retention.ts';
