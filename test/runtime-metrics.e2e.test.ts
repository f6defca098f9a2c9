import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@errand/testing';
import { System } from './harness.ts';

interface Point {
  service: string;
  name: string;
  attributes: Record<string, unknown>;
  value: number;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number };
const valueOf = (v: AnyValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
const attrs = (list: { key: string; value: AnyValue }[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** An OTLP/HTTP receiver (JSON encoding) that keeps every gauge point it is sent, and takes traces too. */
async function receiver(): Promise<{ app: FastifyInstance; points: Point[]; endpoint: string }> {
  const points: Point[] = [];
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  app.post('/v1/metrics', async (req) => {
    const body = req.body as { resourceMetrics?: any[] };
    for (const rm of body.resourceMetrics ?? []) {
      const service = String(attrs(rm.resource?.attributes)['service.name']);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          for (const p of m.gauge?.dataPoints ?? []) {
            points.push({ service, name: m.name, attributes: attrs(p.attributes), value: Number(p.asDouble ?? p.asInt ?? 0) });
          }
        }
      }
    }
    return {};
  });
  app.post('/v1/traces', async () => ({}));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return { app, points, endpoint: `http://127.0.0.1:${port}` };
}

describe('runtime metrics over OTLP', () => {
  let sys: System;
  let rx: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    rx = await receiver();
    sys = await System.start({
      env: {
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
      },
    });
  });
  afterAll(async () => {
    await sys?.stop();
    await rx?.app.close();
  });

  it('every service sends its event-loop lag; the intake its read model lag; the notifier its deliveries in flight', async () => {
    const has = (service: string, name: string, match: (p: Point) => boolean = () => true) =>
      rx.points.some((p) => p.service === service && p.name === name && match(p));
    await waitFor(
      () =>
        ['errand-intake', 'errand-scheduler', 'errand-worker', 'errand-notifier'].every((s) => has(s, 'errand.runtime.event_loop.lag', (p) => p.attributes.stat === 'p99')) &&
        has('errand-intake', 'errand.consumer.lag', (p) => p.attributes.consumer === 'intake-read-model') &&
        has('errand-notifier', 'errand.notifier.deliveries.in_flight'),
      { timeoutMs: 30_000, intervalMs: 200, what: 'runtime metrics from every service' },
    );
    const lag = rx.points.filter((p) => p.name === 'errand.runtime.event_loop.lag');
    expect(lag.every((p) => p.value >= 0 && p.value < 5)).toBe(true);
    const readModelLag = rx.points.filter((p) => p.name === 'errand.consumer.lag' && p.attributes.consumer === 'intake-read-model');
    expect(readModelLag.at(-1)!.value).toBe(0);
  });
});
