import { afterEach, describe, expect, it, vi } from 'vitest';
import { context, diag, propagation, trace, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, tracesExporterConfigured, type Telemetry } from './sdk.ts';
import { contextFromTraceparent, inSpan, traceIdOf, traceparentOf } from './propagation.ts';

const OTEL_VARS = [
  'OTEL_SDK_DISABLED',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_EXPORTER',
  'OTEL_TRACES_SAMPLER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
];
const INCOMING = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let telemetry: Telemetry | undefined;

/** Start telemetry with exactly these OTEL_* variables (the SDK reads process.env). */
async function start(env: Record<string, string>): Promise<Telemetry> {
  for (const k of OTEL_VARS) vi.stubEnv(k, env[k] ?? '');
  telemetry = await startTelemetry('errand-test');
  return telemetry;
}

afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  vi.unstubAllEnvs();
  trace.disable();
  propagation.disable();
  context.disable();
  diag.disable();
});

async function rootSpan(): Promise<{ traceparent?: string; span: ReadableSpan }> {
  return await inSpan('root', context.active(), {}, async (span, ctx) => ({ ...traceparentOf(ctx), span: span as unknown as ReadableSpan }));
}

describe('startTelemetry', () => {
  it('with no exporter: real, sampled ids (so context flows), nothing exported, nothing logged', async () => {
    const errors = vi.spyOn(console, 'error');
    const t = await start({});
    expect(t.exporting).toBe(false);
    const { traceparent, span } = await rootSpan();
    expect(span.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(traceIdOf(traceparent)).toBe(span.spanContext().traceId);
    expect(traceparent).toMatch(/-01$/);
    expect(span.resource.attributes['service.name']).toBe('errand-test');
    await t.shutdown();
    expect(errors).not.toHaveBeenCalled();
  });

  it('OTEL_TRACES_EXPORTER=none is the same: spans with ids, exported nowhere', async () => {
    const t = await start({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(t.exporting).toBe(false);
    expect(traceIdOf((await rootSpan()).traceparent)).toBeDefined();
  });

  it('exports when an OTLP endpoint or an exporter is set', () => {
    for (const [env, exporting] of [
      [{}, false],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
      [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
      [{ OTEL_TRACES_EXPORTER: 'console' }, true],
      [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    ] as const) {
      for (const k of OTEL_VARS) vi.stubEnv(k, (env as Record<string, string>)[k] ?? '');
      expect(tracesExporterConfigured(), JSON.stringify(env)).toBe(exporting);
    }
  });

  it('OTEL_SERVICE_NAME overrides the service name', async () => {
    await start({ OTEL_SERVICE_NAME: 'my-intake' });
    expect((await rootSpan()).span.resource.attributes['service.name']).toBe('my-intake');
  });

  it('OTEL_TRACES_SAMPLER: always_off still makes valid ids, not sampled; a sampled parent is followed by default', async () => {
    await start({ OTEL_TRACES_SAMPLER: 'always_off' });
    const { traceparent } = await rootSpan();
    expect(traceIdOf(traceparent)).toBeDefined();
    expect(traceparent).toMatch(/-00$/);
    await telemetry!.shutdown();
    trace.disable();
    await start({});
    const child = await inSpan('child', contextFromTraceparent(INCOMING), {}, async (_s, ctx) => traceparentOf(ctx).traceparent);
    expect(traceIdOf(child)).toBe(traceIdOf(INCOMING));
  });

  it('OTEL_SDK_DISABLED=true makes no spans of its own but passes an incoming traceparent on', async () => {
    const t = await start({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(t.exporting).toBe(false);
    expect((await rootSpan()).traceparent).toBeUndefined();
    const passed = await inSpan('child', contextFromTraceparent(INCOMING), {}, async (_s, ctx) => traceparentOf(ctx).traceparent);
    expect(passed).toBe(INCOMING);
  });
});
