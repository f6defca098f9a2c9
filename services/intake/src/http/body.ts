import type { FastifyInstance } from 'fastify';
import { parseJsonBody } from '@errand/contracts';

/**
 * Request bodies: JSON only, parsed by `parseJsonBody`, which refuses
 * nesting deeper than 64 levels by scanning before parsing (a hostile body
 * never reaches a recursive parser or walk). An empty body is `undefined`
 * (each route says whether it needs one). Over NATS the same function parses.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, parseJsonBody(String(text)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
