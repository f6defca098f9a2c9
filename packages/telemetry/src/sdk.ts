import { NodeSDK } from '@opentelemetry/sdk-node';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { propagation } from '@opentelemetry/api';

export interface Telemetry {
  shutdown(): Promise<void>;
  /** true when spans are exported somewhere */
  exporting: boolean;
}

/**
 * Start the OpenTelemetry Node SDK for a service. The standard OTEL_*
 * variables configure it; with no exporter configured, spans are still made
 * (so trace context flows between services) but sent nowhere.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  const exporting =
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    Boolean(env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER !== 'none');
  if (env.OTEL_SDK_DISABLED === 'true') {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return { exporting: false, shutdown: async () => undefined };
  }
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? serviceName }),
    textMapPropagator: new W3CTraceContextPropagator(),
    ...(exporting ? {} : { spanProcessors: [] }),
    instrumentations: [],
  });
  sdk.start();
  return { exporting, shutdown: () => sdk.shutdown() };
}
