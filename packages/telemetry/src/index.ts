export * from './propagation.ts';
export * from './sdk.ts';
export { metricReadersFromEnv, observeGauge, startRuntimeMetrics } from './metrics.ts';
