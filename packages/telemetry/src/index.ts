export {
  annotate,
  context,
  contextFromTraceparent,
  extractTrace,
  injectTrace,
  inSpan,
  linksTo,
  SpanKind,
  trace,
  traceIdOf,
  traceparentOf,
  tracer,
  type Context,
  type HeaderLike,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanOptions,
} from './propagation.ts';
export { startTelemetry, tracesExporterConfigured, type Telemetry } from './sdk.ts';
export { TelemetryAttributes, type TelemetryAttribute } from './attributes.ts';
export { observeGauge, startRuntimeMetrics } from './metrics.ts';
