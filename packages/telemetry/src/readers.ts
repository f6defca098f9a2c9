import { getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { OTLPMetricExporter as OtlpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';

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
