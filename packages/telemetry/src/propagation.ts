import { context, propagation, trace, SpanKind, SpanStatusCode, type Context, type Link, type Span } from '@opentelemetry/api';

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

/** Read W3C trace context from NATS headers (or the active context when there is none). */
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

export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanOptions {
  kind?: SpanKind;
  /** other traces this span relates to (e.g. the request that caused work in a task's trace) */
  links?: Link[];
}

/**
 * Run `fn` in a span that is a child of `parent`; the span ends when `fn`
 * settles and records an exception if it throws. `fn` gets the span and its
 * context: pass that context on (to `EventLog.append({trace})`, a work
 * message) so what `fn` writes continues the trace.
 */
export async function inSpan<T>(
  name: string,
  parent: Context,
  attributes: SpanAttributes,
  fn: (span: Span, ctx: Context) => Promise<T>,
  options: SpanKind | SpanOptions = SpanKind.INTERNAL,
): Promise<T> {
  const opts = typeof options === 'object' ? options : { kind: options };
  const span = tracer().startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes, ...(opts.links ? { links: opts.links } : {}) }, parent);
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

/** A link to the span of `ctx`, or none when it has no valid span context. */
export function linksTo(ctx: Context): Link[] {
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? [{ context: sc }] : [];
}

/**
 * Add attributes to the span of `ctx` (default: the active span) and, with
 * `error`, mark it failed: for outcomes known only after the span began.
 */
export function annotate(attributes: SpanAttributes, opts: { ctx?: Context; error?: string } = {}): void {
  const span = trace.getSpan(opts.ctx ?? context.active());
  if (!span) return;
  span.setAttributes(attributes);
  if (opts.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: opts.error });
}

/** The trace id in a `traceparent` header value (undefined when it is not a valid one). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent?.trim() ?? '');
  return m && m[1] !== '0'.repeat(32) ? m[1] : undefined;
}

export { SpanKind, context, trace, type Context, type Link, type Span };
