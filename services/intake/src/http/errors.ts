import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrandError } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';
import { toErrandError } from '../ops/errors.ts';

/** Fastify's own errors (body parsing, limits, routing) as Errand errors. */
function fromFastify(err: FastifyError): ErrandError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ErrandError('too_large', 'the request body is over the size limit');
    case 'FST_ERR_CTP_INVALID_JSON':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ErrandError('invalid', `malformed JSON: ${err.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ErrandError('invalid', 'send the body as application/json');
    default:
      break;
  }
  if (err.statusCode === 413) return new ErrandError('too_large', 'the request body is over the size limit');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new ErrandError('invalid', err.message);
  }
  return undefined;
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
    void reply.code(e.status).type('application/json').send(e.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ErrandError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
    void reply.code(404).type('application/json').send(e.toBody());
  });
}
