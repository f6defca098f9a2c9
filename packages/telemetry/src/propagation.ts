import { context, propagation, trace, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';

/** Anything with get/set of string headers: NATS MsgHdrs fit, and so does a plain carrier. */
export interface HeaderLike {
  get(key: string): string;
  set(key: string, value: string): void;
}

const setter = {
  set(carrier: HeaderLike, key: string, value: string) {
    carrier.set(key, value);
  },
};
const getter = {
  get(carrier: HeaderLike, key: string) {
    const v = carrier.get(key);
    return v === '' ? undefined : v;
  },
  keys() {
    return ['traceparent', 'tracestate'];
  },
};

/** Write W3C trace context (`traceparent`, `tracestate`) of `ctx` into NATS headers. */
export function injectTrace(headers: HeaderLike, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, setter);
}

/** Read W3C trace context from NATS headers (or the root context when there is none). */
export function extractTrace(headers: HeaderLike | undefined): Context {
  if (!headers) return context.active();
  return propagation.extract(context.active(), headers, getter);
}

/** A context from a stored `traceparent` / `tracestate` pair. */
export function contextFromTraceparent(traceparent?: string, tracestate?: string): Context {
  if (!traceparent) return context.active();
  const carrier: Record<string, string> = { traceparent, ...(tracestate ? { tracestate } : {}) };
  return propagation.extract(context.active(), carrier);
}

/** The `traceparent` / `tracestate` of a context, to store in a message body. */
export function traceparentOf(ctx: Context): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

export function tracer(name = 'errand') {
  return trace.getTracer(name);
}

/**
 * Run `fn` in a span that is a child of `parent`; the span ends when `fn`
 * settles and records an exception if it throws.
 */
export async function inSpan<T>(
  name: string,
  parent: Context,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span, ctx: Context) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    return await context.with(ctx, () => fn(span, ctx));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanKind, context, trace, type Context, type Span };
