import type { FastifyRequest } from 'fastify';
import { ErrandError, isToken } from '@errand/contracts';
import { extractTrace, inSpan, SpanKind, TelemetryAttributes } from '@errand/telemetry';

declare module 'fastify' {
  interface FastifyRequest {
    /** the tenant of the request's API key (`default` in development mode) */
    tenant: string;
  }
}

/** A path parameter that must be a token (`a.b` or `*` is `invalid`, never a subject part). */
export function tokenParam(req: FastifyRequest, name = 'id'): string {
  const value = (req.params as Record<string, string | undefined>)[name];
  if (!isToken(value)) {
    throw new ErrandError('invalid', `"${String(value).slice(0, 100)}" is not a valid ${name}`, {
      details: [{ path: name, message: 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"' }],
    });
  }
  return value;
}

/** Run a request's work in a server span, child of the caller's `traceparent` if any. */
export function traced<T>(name: string, req: FastifyRequest, fn: () => Promise<T>): Promise<T> {
  const carrier = {
    get: (k: string) => {
      const v = req.headers[k];
      return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
    },
    set: () => undefined,
  };
  return inSpan(name, extractTrace(carrier), { [TelemetryAttributes.Tenant]: req.tenant, [TelemetryAttributes.HttpRoute]: req.routeOptions.url ?? '' }, () => fn(), SpanKind.SERVER);
}
