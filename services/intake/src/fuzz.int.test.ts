import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { API_VERBS, errorBodySchema } from '@errand/contracts';
import { auth, startRig, typeInfo, type Rig } from './test-support.ts';

// Property-based fuzzing of both APIs against a real nats-server: whatever a
// client sends, the answer is never a 5xx, a 4xx is the contract's error body,
// and every answer is JSON. Bounded: a fixed number of runs and a fixed seed
// per run count (a failure prints its seed and shrunk input to replay).

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
  await rig.registerType(typeInfo('test.job', { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false }));
});
afterAll(async () => {
  await rig?.close();
});

const nested = fc.integer({ min: 1, max: 3_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('%', '%E0%A4%A', '%00', '..', '.', '*', '>', 'a.b', ' ', '%2F', '\u0000', '\uFFFF', '😀', 'a'.repeat(5_000)),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,70}$/),
);
/** A path segment as a client might put it in a URL: raw, percent-encoded, or broken. */
const segment = fc.oneof(oddString.map((s) => encodeURIComponent(s)), oddString.map((s) => s.replace(/[/?#\s]/g, '')));

const submitLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom('test.job', 'demo.nope', ''), fc.string()),
    params: fc.oneof(fc.jsonValue(), fc.record({ n: fc.oneof(fc.integer(), fc.string()) })),
    user: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/), oddString),
    priority: fc.oneof(fc.constantFrom('high', 'normal', 'low', 'urgent'), fc.integer({ min: -5, max: 20 })),
    timeoutMs: fc.oneof(fc.integer(), fc.double()),
    idempotencyKey: fc.oneof(fc.string(), fc.jsonValue()),
    deliver: fc.oneof(fc.jsonValue(), fc.array(fc.record({ kind: fc.constantFrom('nats', 'webhook', 'memory', 'x'), url: fc.webUrl(), subject: oddString }))),
    metadata: fc.jsonValue({ maxDepth: 8 }),
  },
  { requiredKeys: [] },
);

/** Any body: JSON of any shape, a submit-like object, deep nesting, or text that is not JSON. */
const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  submitLike.map((v) => JSON.stringify(v)),
  nested,
  nested.map((n) => `{"type":"test.job","idempotencyKey":"k","params":{"a":${n}}}`),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', '{', 'null', '[]', '"x"', '{"id":null}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'),
);

const ROUTES = [
  (id: string) => `/v1/tasks/${id}`,
  (id: string) => `/v1/tasks/${id}/result`,
  (id: string) => `/v1/tasks/${id}/cancel`,
  (id: string) => `/v1/tasks/${id}/retry`,
  (id: string) => `/v1/tasks/${id}/events`,
  (id: string) => `/v1/memory/${id}`,
  () => '/v1/tasks',
  () => '/v1/tasks/batch',
  () => '/v1/memory',
  () => '/v1/task-types',
  () => '/v1/metrics/summary',
  (id: string) => `/v1/${id}`,
  (id: string) => `/${id}`,
];
const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.constantFrom('state', 'user', 'type', 'limit', 'cursor', 'x'), oddString, { maxKeys: 4 }).map(
    (d) => `?${Object.entries(d).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`,
  ),
  oddString.map((s) => `?${s.replace(/[#\s]/g, '')}`),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  route: fc.integer({ min: 0, max: ROUTES.length - 1 }),
  id: segment,
  query,
  body: fc.option(body, { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', ''),
  authorized: fc.boolean(),
});

function parses(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return Symbol.for('not JSON');
  }
}

describe('fuzz: the HTTP API', () => {
  it('never answers 5xx; a 4xx is the contract error body; always JSON', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const url = `${ROUTES[r.route]!(r.id)}${r.query}`;
        const opts: InjectOptions = {
          method: r.method as InjectOptions['method'],
          url,
          headers: {
            // never an event stream here: an SSE answer is open-ended by design
            accept: 'application/json',
            ...(r.authorized ? auth() : { authorization: 'Bearer nope' }),
            ...(r.body !== undefined && r.contentType ? { 'content-type': r.contentType } : {}),
          },
          ...(r.body !== undefined ? { payload: r.body } : {}),
        };
        const res = await rig.intake.app.inject(opts);
        expect(res.statusCode, `${r.method} ${url.slice(0, 200)} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
        const json = parses(res.body);
        expect(json, `not JSON: ${res.body.slice(0, 200)}`).not.toBe(Symbol.for('not JSON'));
        if (res.statusCode >= 400) expect(errorBodySchema.safeParse(json).success, res.body.slice(0, 300)).toBe(true);
      }),
      { numRuns: 400, seed: 20261201, endOnFailure: true },
    );
  });
});

describe('fuzz: the NATS API', () => {
  const verb = fc.oneof(fc.constantFrom(...API_VERBS));
  const tenant = fc.oneof(fc.constantFrom('acme', 'other'), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/));
  const payload = fc.oneof(body.map((b) => new TextEncoder().encode(b)), fc.uint8Array({ maxLength: 300 }));

  it('always answers a JSON body, never 5xx, errors in the contract body', async () => {
    await fc.assert(
      fc.asyncProperty(verb, tenant, payload, async (v, t, data) => {
        const msg = await rig.nc.request(`errand.api.${t}.${v}`, data, { timeout: 5_000 });
        const status = Number(msg.headers?.get('Errand-Status'));
        const text = new TextDecoder().decode(msg.data);
        const json = parses(text);
        expect(json, `not JSON: ${text.slice(0, 200)}`).not.toBe(Symbol.for('not JSON'));
        expect(status, text.slice(0, 300)).toBeLessThan(500);
        if (status >= 400) expect(errorBodySchema.safeParse(json).success, text.slice(0, 300)).toBe(true);
        if (t !== 'acme' && t !== 'other') expect(status).toBe(401);
      }),
      { numRuns: 250, seed: 20261202, endOnFailure: true },
    );
  });
});
