import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrandError } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';
import { toErrandError } from '../ops/errors.ts';

/** What a client may get wrong, by fastify's code, in the contract's terms. */
const FASTIFY_CODES: Record<string, (err: FastifyError) => ErrandError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new ErrandError('too_large', 'the request body is over the size limit'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new ErrandError('invalid', 'the Content-Length does not match the body'),
  FST_ERR_CTP_INVALID_JSON: (err) => new ErrandError('invalid', `malformed JSON: ${err.message}`),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new ErrandError('invalid', 'malformed JSON: the body is empty'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new ErrandError('invalid', 'send the body as application/json'),
  FST_ERR_CTP_INVALID_TYPE: () => new ErrandError('invalid', 'send the body as application/json'),
  FST_ERR_CTP_EMPTY_TYPE: () => new ErrandError('invalid', 'send the body as application/json'),
  FST_ERR_BAD_URL: () => new ErrandError('invalid', 'malformed URL (bad percent-encoding)'),
  FST_ERR_MAX_PARAM_LENGTH: () =>
    new ErrandError('invalid', 'a path parameter is too long', {
      details: [{ path: 'id', message: 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"' }],
    }),
  FST_ERR_ASYNC_CONSTRAINT: () => new ErrandError('invalid', 'the request does not fit any route'),
};

/** Fastify's own errors (body parsing, limits, routing) as Errand errors; undefined for what is not the client's. */
function fromFastify(err: FastifyError): ErrandError | undefined {
  const known = typeof err.code === 'string' ? FASTIFY_CODES[err.code] : undefined;
  if (known) return known(err);
  if (err.statusCode === 413) return new ErrandError('too_large', 'the request body is over the size limit');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new ErrandError('invalid', err.message);
  }
  return undefined;
}

function send(reply: FastifyReply, e: ErrandError): void {
  void reply.code(e.status).type('application/json').send(e.toBody());
}

/**
 * Fastify's `frameworkErrors` option: errors raised while routing, before any
 * hook or handler (a URL that does not decode, a parameter over
 * `maxParamLength`), answered in the contract's body instead of fastify's.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  send(reply, fromFastify(err) ?? new ErrandError('invalid', 'malformed request'));
}

/** One error handler: every error answers `{error: {code, message, details?}}` with the code's status. */
export function installErrorHandling(app: FastifyInstance, ctx: IntakeContext): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = err instanceof ErrandError ? err : (fromFastify(err) ?? toErrandError(err, ctx.connection.up));
    // an underlying failure is worth a line; an expected refusal (NATS known to be down) is not
    if (e.cause !== undefined && (e.code === 'internal' || e.code === 'unavailable')) {
      const level = e.code === 'internal' ? 'error' : 'warn';
      ctx.log[level]('request failed', { method: req.method, route: req.routeOptions.url, code: e.code, err: e.cause as Error });
    }
    send(reply, e);
  });
  app.setNotFoundHandler((req, reply) => {
    send(reply, new ErrandError('not_found', `no route ${req.method} ${req.url.split('?')[0]?.slice(0, 200)}`));
  });
}
