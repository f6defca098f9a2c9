import { monitorEventLoopDelay } from 'node:perf_hooks';
import { metrics, type Attributes } from '@opentelemetry/api';
import { getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { OTLPMetricExporter as OtlpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';

const METER = 'errand';

/**
 * The metric readers the environment asks for, beyond what the Node SDK does
 * itself: with OTEL_METRICS_EXPORTER set, the SDK builds its readers (otlp,
 * console, prometheus, none) and this returns none; with it unset and an OTLP
 * endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT or _METRICS_ENDPOINT), metrics go
 * to that endpoint as traces do (every OTEL_METRIC_EXPORT_INTERVAL, default
 * 60 s); with neither, no metrics are exported.
 */
export function metricReadersFromEnv(): MetricReader[] {
  if (getStringListFromEnv('OTEL_METRICS_EXPORTER') !== undefined) return [];
  if (!getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') && !getStringFromEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT')) return [];
  const protocol = getStringFromEnv('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') ?? getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL');
  const exporter = protocol === 'http/json' ? new OtlpJsonMetricExporter() : new OtlpProtoMetricExporter();
  const interval = Number(getStringFromEnv('OTEL_METRIC_EXPORT_INTERVAL') ?? '') || 60_000;
  return [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: interval, exportTimeoutMillis: Math.min(interval, 30_000) })];
}

/**
 * An observable gauge read at each export (a no-op when no meter provider is
 * registered). Returns its removal. `read` answers undefined to skip a round.
 */
export function observeGauge(name: string, description: string, unit: string, read: () => number | undefined, attributes: Attributes = {}): () => void {
  const gauge = metrics.getMeter(METER).createObservableGauge(name, { description, unit });
  const callback = (r: { observe: (v: number, a?: Attributes) => void }) => {
    const v = read();
    if (v !== undefined && Number.isFinite(v)) r.observe(v, attributes);
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/**
 * Event-loop lag of this process (`errand.runtime.event_loop.lag`, seconds:
 * mean, p99 and max of the delay since the last export), from
 * `perf_hooks.monitorEventLoopDelay`. Every service starts it with its telemetry.
 */
export function startRuntimeMetrics(): () => void {
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  const gauge = metrics.getMeter(METER).createObservableGauge('errand.runtime.event_loop.lag', {
    description: 'Delay of the event loop since the last export (mean, p99, max)',
    unit: 's',
  });
  const callback = (r: { observe: (v: number, a?: Attributes) => void }) => {
    if (h.count === 0) return;
    r.observe(h.mean / 1e9, { stat: 'mean' });
    r.observe(h.percentile(99) / 1e9, { stat: 'p99' });
    r.observe(h.max / 1e9, { stat: 'max' });
    h.reset();
  };
  gauge.addCallback(callback);
  return () => {
    gauge.removeCallback(callback);
    h.disable();
  };
}
