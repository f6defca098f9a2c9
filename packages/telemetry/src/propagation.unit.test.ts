import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  annotate,
  contextFromTraceparent,
  extractTrace,
  inSpan,
  injectTrace,
  linksTo,
  traceIdOf,
  traceparentOf,
  type HeaderLike,
} from './propagation.ts';

/** Headers that behave like NATS MsgHdrs: `get` of a missing key is ''. */
class Headers implements HeaderLike {
  readonly m = new Map<string, string>();
  get(k: string): string {
    return this.m.get(k) ?? '';
  }
  set(k: string, v: string): void {
    this.m.set(k, v);
  }
}

function headersWith(traceparent: string): Headers {
  const h = new Headers();
  h.set('traceparent', traceparent);
  return h;
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING = `00-${TRACE}-00f067aa0ba902b7-01`;
const exporter = new InMemorySpanExporter();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

describe('trace context through NATS headers', () => {
  it('round-trips a span context: inject into headers, extract, same trace and parent span', async () => {
    await inSpan('outer', context.active(), {}, async (span, ctx) => {
      const h = new Headers();
      injectTrace(h, ctx);
      const sc = span.spanContext();
      expect(h.get('traceparent')).toBe(`00-${sc.traceId}-${sc.spanId}-01`);
      const back = trace.getSpanContext(extractTrace(h));
      expect(back).toMatchObject({ traceId: sc.traceId, spanId: sc.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    });
  });

  it('injects the active context by default (inside inSpan)', async () => {
    await inSpan('active', context.active(), {}, async (span) => {
      const h = new Headers();
      injectTrace(h);
      expect(traceIdOf(h.get('traceparent'))).toBe(span.spanContext().traceId);
    });
  });

  it('keeps tracestate', () => {
    const ctx = contextFromTraceparent(INCOMING, 'vendor=abc');
    const h = new Headers();
    injectTrace(h, ctx);
    expect(h.get('traceparent')).toBe(INCOMING);
    expect(h.get('tracestate')).toBe('vendor=abc');
    expect(trace.getSpanContext(extractTrace(h))?.traceState?.get('vendor')).toBe('abc');
    expect(traceparentOf(ctx)).toEqual({ traceparent: INCOMING, tracestate: 'vendor=abc' });
  });

  it('continues an incoming trace: a child span of an extracted context has its trace id and parent', async () => {
    const tp = await inSpan('child', extractTrace(headersWith(INCOMING)), { 'errand.task_id': 't1' }, async (_s, ctx) => traceparentOf(ctx).traceparent);
    expect(traceIdOf(tp)).toBe(TRACE);
    expect(tp).not.toBe(INCOMING);
    const child = exporter.getFinishedSpans().find((s) => s.name === 'child')!;
    expect(child.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(child.attributes['errand.task_id']).toBe('t1');
  });

  it('without headers, or with no or a broken traceparent, gives no parent and injects nothing', () => {
    for (const h of [undefined, new Headers(), headersWith('zz-not-a-trace'), headersWith(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)]) {
      expect(trace.getSpanContext(extractTrace(h))).toBeUndefined();
    }
    const out = new Headers();
    injectTrace(out, context.active());
    expect(out.m.size).toBe(0);
    expect(traceparentOf(contextFromTraceparent(undefined))).toEqual({});
  });

  it('inSpan marks a throwing function as an error, and annotate marks an outcome known later', async () => {
    await expect(inSpan('boom', context.active(), {}, async () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    await inSpan('later', context.active(), {}, async (_s, ctx) => annotate({ 'errand.tries': 3 }, { ctx, error: 'gave up' }));
    const spans = exporter.getFinishedSpans();
    expect(spans.find((s) => s.name === 'boom')?.status).toMatchObject({ code: 2, message: 'nope' });
    const later = spans.find((s) => s.name === 'later')!;
    expect(later.status).toMatchObject({ code: 2, message: 'gave up' });
    expect(later.attributes['errand.tries']).toBe(3);
  });

  it('links to a context span, and traceIdOf reads only valid traceparents', () => {
    expect(linksTo(contextFromTraceparent(INCOMING))[0]?.context.traceId).toBe(TRACE);
    expect(linksTo(context.active())).toEqual([]);
    expect(traceIdOf(INCOMING)).toBe(TRACE);
    expect(traceIdOf(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(traceIdOf('nonsense')).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });
});
