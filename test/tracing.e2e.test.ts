import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@errand/testing';
import { EventLog, type StoredEvent } from '@errand/nats';
import { System, http } from './harness.ts';

/** One span as an OTLP/HTTP JSON export carries it, with its resource's service.name. */
interface OtlpSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const valueOf = (v: AnyValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attrs = (list: { key: string; value: AnyValue }[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** A tiny OTLP/HTTP trace receiver (JSON encoding) on 127.0.0.1: keeps every span it is sent. */
class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  private app!: FastifyInstance;
  port = 0;

  static async start(): Promise<OtlpReceiver> {
    const r = new OtlpReceiver();
    r.app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, forceCloseConnections: true });
    r.app.post('/v1/traces', async (req) => {
      const body = req.body as { resourceSpans?: any[] };
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            r.spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attrs(s.attributes),
              links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
            });
          }
        }
      }
      return {};
    });
    await r.app.listen({ host: '127.0.0.1', port: 0 });
    r.port = (r.app.server.address() as { port: number }).port;
    return r;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  inTrace(traceId: string): OtlpSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    await this.app.close();
  }
}

const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');
/** [trace id, span id] of a `traceparent` value */
const partsOf = (tp: string | undefined) => {
  const m = /^00-([\da-f]{32})-([\da-f]{16})-0[01]$/.exec(tp ?? '');
  return m ? { traceId: m[1]!, spanId: m[2]! } : undefined;
};
const traceparentOfEvent = (e: StoredEvent | undefined) => e?.headers?.get('traceparent');

describe('one trace per task across intake, scheduler, worker and notifier (OTLP/HTTP JSON export)', () => {
  let sys: System;
  let otlp: OtlpReceiver;
  let log: EventLog;

  beforeAll(async () => {
    otlp = await OtlpReceiver.start();
    sys = await System.start({
      env: {
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    log = new EventLog(sys.nc);
  });
  afterAll(async () => {
    log?.close();
    await sys?.stop();
    await otlp?.stop();
  });

  async function waitDelivered(id: string, of: string): Promise<StoredEvent[]> {
    return await waitFor(
      async () => {
        const h = await log.history('default', id);
        return h.some((s) => s.event.type === 'delivered' && s.event.of === of) ? h : undefined;
      },
      { timeoutMs: 30_000, what: `the ${of} event of ${id} to be delivered` },
    );
  }

  it('an HTTP submit with a traceparent: every service’s spans and every event are in the caller’s trace', async () => {
    const traceId = newTraceId();
    const callerSpan = newSpanId();
    const subject = 'errand.notify.default.tracing-http';
    const got: string[] = [];
    const sub = sys.nc.subscribe(subject, {
      callback: (_e, m) => {
        got.push(m.string());
      },
    });

    const res = await http(
      sys,
      'POST',
      '/v1/tasks',
      { type: 'demo.sleep', params: { durationMs: 300, steps: 3, result: 'traced' }, user: 'u-trace', deliver: [{ kind: 'nats', subject }] },
      { traceparent: `00-${traceId}-${callerSpan}-01` },
    );
    expect(res.status).toBe(202);
    const id: string = res.body.id;
    const history = await waitDelivered(id, 'completed');
    sub.unsubscribe();
    expect(got.map((g) => JSON.parse(g).type)).toContain('completed');

    // the events: submitted, started and completed (and all the others) carry the caller's trace id
    const byType = (t: string) => history.find((s) => s.event.type === t);
    for (const t of ['submitted', 'started', 'completed']) expect(partsOf(traceparentOfEvent(byType(t)))?.traceId, t).toBe(traceId);
    for (const s of history) expect(partsOf(traceparentOfEvent(s))?.traceId, `${s.event.type} #${s.seq}`).toBe(traceId);

    // the spans: all four services export spans of that trace
    const spans = await waitFor(
      () => {
        const inTrace = otlp.inTrace(traceId);
        const names = new Set(inTrace.map((s) => s.name));
        const done = ['errand.submit', 'errand.schedule queued', 'errand.dispatch', 'errand.run demo.sleep', 'errand.deliver nats'].every((n) => names.has(n));
        return done && inTrace.some((s) => s.name === 'errand.deliver nats' && s.attributes['errand.event'] === 'completed') ? inTrace : undefined;
      },
      { timeoutMs: 30_000, what: `spans of trace ${traceId} from all four services` },
    );
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['errand-intake', 'errand-scheduler', 'errand-worker', 'errand-notifier']));
    const one = (name: string, pred: (s: OtlpSpan) => boolean = () => true) => {
      const found = spans.filter((s) => s.name === name && pred(s));
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };

    // and they form one tree: caller → submit → (queued, dispatch → run → deliver)
    const submit = one('errand.submit');
    expect(submit).toMatchObject({ service: 'errand-intake', parentSpanId: callerSpan, kind: 2 });
    expect(submit.attributes).toMatchObject({ 'errand.task_id': id, 'errand.tenant': 'default', 'errand.task_type': 'demo.sleep' });
    expect(partsOf(traceparentOfEvent(byType('submitted')))?.spanId).toBe(submit.spanId);

    const queued = one('errand.schedule queued');
    expect(queued).toMatchObject({ service: 'errand-scheduler', parentSpanId: submit.spanId });
    expect(partsOf(traceparentOfEvent(byType('queued')))?.spanId).toBe(queued.spanId);

    const dispatch = one('errand.dispatch');
    expect(dispatch).toMatchObject({ service: 'errand-scheduler', parentSpanId: submit.spanId });
    expect(dispatch.attributes).toMatchObject({ 'errand.task_id': id, 'errand.attempt': 1, 'errand.task_type': 'demo.sleep' });
    expect(partsOf(traceparentOfEvent(byType('dispatched')))?.spanId).toBe(dispatch.spanId);

    const run = one('errand.run demo.sleep');
    expect(run).toMatchObject({ service: 'errand-worker', parentSpanId: dispatch.spanId });
    expect(run.attributes).toMatchObject({ 'errand.task_id': id, 'errand.tenant': 'default', 'errand.task_type': 'demo.sleep', 'errand.attempt': 1 });
    for (const t of ['started', 'progress', 'checkpoint', 'completed']) expect(partsOf(traceparentOfEvent(byType(t)))?.spanId, t).toBe(run.spanId);

    const deliver = one('errand.deliver nats', (s) => s.attributes['errand.event'] === 'completed');
    expect(deliver).toMatchObject({ service: 'errand-notifier', parentSpanId: run.spanId });
    expect(deliver.attributes).toMatchObject({ 'errand.task_id': id, 'errand.target_kind': 'nats', 'errand.attempt': 1 });
    const delivered = history.find((s) => s.event.type === 'delivered' && s.event.of === 'completed');
    expect(partsOf(traceparentOfEvent(delivered))?.spanId).toBe(deliver.spanId);
  });

  it('a NATS submit continues the request’s traceparent, and a cancel joins the task’s trace', async () => {
    const traceId = newTraceId();
    const callerSpan = newSpanId();
    const h = natsHeaders();
    h.set('traceparent', `00-${traceId}-${callerSpan}-01`);
    const body = { type: 'demo.sleep', params: { durationMs: 20_000, steps: 40 }, user: 'u-trace-nats' };
    const reply = await sys.nc.request('errand.api.default.submit', JSON.stringify(body), { timeout: 10_000, headers: h });
    const id: string = reply.json<{ id: string }>().id;
    expect(id).toBeTruthy();
    await waitFor(async () => (await log.history('default', id)).some((s) => s.event.type === 'started'), {
      timeoutMs: 30_000,
      what: `task ${id} to start`,
    });

    // the cancel request carries no trace context: its event still lands in the task's trace
    const cancel = await http(sys, 'POST', `/v1/tasks/${id}/cancel`, { reason: 'tracing test' });
    expect(cancel.status).toBe(202);
    const history = await waitFor(
      async () => {
        const hist = await log.history('default', id);
        return hist.some((s) => s.event.type === 'cancelled') ? hist : undefined;
      },
      { timeoutMs: 30_000, what: `task ${id} to be cancelled` },
    );
    for (const s of history) expect(partsOf(traceparentOfEvent(s))?.traceId, `${s.event.type} #${s.seq}`).toBe(traceId);

    const spans = await waitFor(
      () => {
        const inTrace = otlp.inTrace(traceId);
        const names = new Set(inTrace.map((s) => s.name));
        return ['errand.submit', 'errand.dispatch', 'errand.run demo.sleep', 'errand.cancel-requested'].every((n) => names.has(n)) ? inTrace : undefined;
      },
      { timeoutMs: 30_000, what: `spans of trace ${traceId}` },
    );
    const submit = spans.find((s) => s.name === 'errand.submit')!;
    expect(submit).toMatchObject({ service: 'errand-intake', parentSpanId: callerSpan, kind: 2 });
    const cancelSpan = spans.find((s) => s.name === 'errand.cancel-requested')!;
    expect(cancelSpan).toMatchObject({ service: 'errand-intake', parentSpanId: submit.spanId });
    expect(cancelSpan.attributes).toMatchObject({ 'errand.task_id': id, 'errand.event': 'cancel-requested' });
    // linked to the HTTP request's own span (a trace of its own). That span ends after the reply
    // is sent, so it may reach the collector in a later export than the span linked to it.
    const linked = cancelSpan.links[0]?.spanId;
    expect(linked).toBeTruthy();
    const request = await waitFor(() => otlp.spans.find((s) => s.spanId === linked), {
      timeoutMs: 30_000,
      what: `the span ${linked} that errand.cancel-requested links to`,
    });
    expect(request).toMatchObject({ name: 'errand.cancel', service: 'errand-intake' });
    expect(request!.traceId).not.toBe(traceId);
    const cancelled = history.find((s) => s.event.type === 'cancelled');
    const run = spans.find((s) => s.name === 'errand.run demo.sleep')!;
    expect(partsOf(traceparentOfEvent(cancelled))?.spanId).toBe(run.spanId);
  });
});

describe('with the SDK on and no exporter configured (the default a deployment gets)', () => {
  let sys: System;
  let log: EventLog;
  beforeAll(async () => {
    sys = await System.start({ env: { OTEL_SDK_DISABLED: 'false', OTEL_LOG_LEVEL: 'warn' } });
    log = new EventLog(sys.nc);
  });
  afterAll(async () => {
    log?.close();
    await sys?.stop();
  });

  it('starts a trace at the intake that every event of the task carries, and logs no telemetry error', async () => {
    const res = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 200, steps: 2 }, user: 'u-quiet' });
    expect(res.status).toBe(202);
    const id: string = res.body.id;
    const history = await waitFor(
      async () => {
        const h = await log.history('default', id);
        return h.some((s) => s.event.type === 'completed') ? h : undefined;
      },
      { timeoutMs: 30_000, what: `task ${id} to complete` },
    );
    const submitted = partsOf(traceparentOfEvent(history[0]));
    expect(submitted?.traceId).toMatch(/^(?!0{32})[\da-f]{32}$/);
    expect(traceparentOfEvent(history[0])).toMatch(/-01$/);
    for (const t of ['started', 'completed']) {
      expect(partsOf(traceparentOfEvent(history.find((s) => s.event.type === t)))?.traceId, t).toBe(submitted?.traceId);
    }
    // OTEL_LOG_LEVEL=warn makes the SDK log its warnings and errors (an exporter failing to reach localhost:4318, say)
    expect(sys.logs()).not.toMatch(/otlp|export|opentelemetry|ECONNREFUSED/i);
  });
});
