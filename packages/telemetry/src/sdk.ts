import { context, diag, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, getBooleanFromEnv, getStringListFromEnv, getStringFromEnv } from '@opentelemetry/core';
import { startRuntimeMetrics } from './metrics.ts';

export interface Telemetry {
  /** flush and stop; never rejects */
  shutdown(): Promise<void>;
  /** true when spans are exported somewhere */
  exporting: boolean;
}

/**
 * Whether the environment asks for spans to be exported: an exporter named in
 * OTEL_TRACES_EXPORTER (other than `none`), or an OTLP endpoint set (the SDK's
 * default exporter is OTLP). Without either, the SDK would still send to
 * localhost:4318 and log every failure: we keep it quiet instead.
 */
export function tracesExporterConfigured(): boolean {
  const exporters = (getStringListFromEnv('OTEL_TRACES_EXPORTER') ?? []).filter((x) => x !== '' && x !== 'null');
  if (exporters.length > 0) return !(exporters.length === 1 && exporters[0] === 'none');
  return Boolean(getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') || getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'));
}

/**
 * Start the OpenTelemetry Node SDK for a service. The standard OTEL_*
 * variables configure it (the SDK reads them from `process.env`):
 *
 * - an exporter (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER=otlp|console|zipkin;
 *   OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf (default), http/json or grpc) sends
 *   spans in batches (OTEL_BSP_*);
 * - with none, spans are still made, with real sampled ids, so trace context
 *   flows between the services through NATS headers, but they are sent nowhere;
 * - OTEL_SERVICE_NAME (or `service.name` in OTEL_RESOURCE_ATTRIBUTES) overrides
 *   `serviceName`; OTEL_TRACES_SAMPLER / _ARG pick the sampler;
 * - OTEL_SDK_DISABLED=true makes no spans at all; an incoming `traceparent`
 *   is still passed on unchanged.
 *
 * Propagation is always W3C trace context (`traceparent`, `tracestate`): that
 * is the events' contract, so OTEL_PROPAGATORS does not change it.
 */
export async function startTelemetry(serviceName: string): Promise<Telemetry> {
  if (getBooleanFromEnv('OTEL_SDK_DISABLED')) {
    // no tracer provider: spans are non-recording, but they carry their parent's context
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return { exporting: false, shutdown: async () => undefined };
  }
  // loaded only when used: the SDK and its exporters are about 300 modules, a third of a
  // service's start-up (every service starts at once on a restart, on the same cores)
  const [{ NodeSDK }, { NoopSpanProcessor }, { defaultResource, resourceFromAttributes }, { ATTR_SERVICE_NAME }, { metricReadersFromEnv }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('./readers.ts'),
  ]);
  const exporting = tracesExporterConfigured();
  const readers = metricReadersFromEnv();
  const sdk = new NodeSDK({
    // detected resources (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) are merged over this
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName })),
    textMapPropagator: new W3CTraceContextPropagator(),
    // a tracer provider needs a processor to be registered at all; this one drops every span
    ...(exporting ? {} : { spanProcessors: [new NoopSpanProcessor()] }),
    // the services log to stdout, not through the OpenTelemetry logs API: no log exporter
    logRecordProcessors: [],
    instrumentations: [],
    // runtime metrics (event-loop lag, consumer lag, deliveries in flight): see metrics.ts
    ...(readers.length ? { metricReaders: readers } : {}),
  });
  sdk.start();
  const stopRuntime = startRuntimeMetrics();
  return {
    exporting,
    // flushes the last spans and metrics; a collector that is down must not fail a service's stop (OTEL_LOG_LEVEL shows why)
    shutdown: () => {
      stopRuntime();
      return sdk.shutdown().catch((err: unknown) => diag.warn(`telemetry shutdown: ${(err as Error).message}`));
    },
  };
}
