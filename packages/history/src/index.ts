export { BadCursor, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, StaleProjectorError } from './types.ts';
export type { Before, HistogramSeries, HistoryStore, ListFilter, ListPage, LogItem, MetricsSnapshot, TaskChange, TypeMetrics } from './types.ts';
