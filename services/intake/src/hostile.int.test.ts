import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { jetstreamManager } from '@nats-io/jetstream';
import { blobNames, decodeJson, encodeJson, errorBodySchema, makeEvent, STREAMS, type ErrandEvent } from '@errand/contracts';
import { Blobs } from '@errand/nats';
import { auth, startRig, typeInfo, type Rig } from './test-support.ts';

let rig: Rig;
const inject = (opts: InjectOptions) => rig.intake.app.inject(opts);
const deep = (n: number) => `{"type":"test.job","params":${'['.repeat(n)}${']'.repeat(n)}}`;

async function call(verb: string, body: unknown, tenant = 'acme'): Promise<{ status: number; body: any; bytes: number }> {
  const data = typeof body === 'string' ? new TextEncoder().encode(body) : encodeJson(body);
  const msg = await rig.nc.request(`errand.api.${tenant}.${verb}`, data, { timeout: 5_000 });
  return { status: Number(msg.headers?.get('Errand-Status')), body: decodeJson(msg.data), bytes: msg.data.length };
}

/** A 4xx in the contract's body with this code. */
function expectError(status: number, body: unknown, code: string, httpStatus = 400) {
  expect(status, JSON.stringify(body).slice(0, 300)).toBe(httpStatus);
  expect(errorBodySchema.safeParse(body).success).toBe(true);
  expect((body as { error: { code: string } }).error.code).toBe(code);
}

async function append(...events: ErrandEvent[]) {
  for (const e of events) await rig.log.append(e, { idExtra: Math.random().toString(36).slice(2) });
}

beforeAll(async () => {
  rig = await startRig();
  await rig.registerType(typeInfo('test.job'));
});
afterAll(async () => {
  await rig?.close();
});

describe('every bad input is a clear 4xx over HTTP', () => {
  it('JSON nested 5,000 levels deep is invalid (not a stack overflow)', async () => {
    const res = await inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth(), 'content-type': 'application/json' }, payload: deep(5000) });
    expectError(res.statusCode, res.json(), 'invalid');
    expect(res.json().error.message).toMatch(/nested deeper than 64/);
  });

  it('65 levels are refused, 60 reach the schema', async () => {
    const refused = await inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth(), 'content-type': 'application/json' }, payload: deep(65) });
    expect(refused.json().error.message).toMatch(/nested deeper/);
    const checked = await inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth(), 'content-type': 'application/json' }, payload: deep(60) });
    expect(checked.statusCode).toBe(202);
  });

  it('a deep idempotent body with a deep metadata never overflows the canonical form', async () => {
    const metadata = `${'{"a":'.repeat(62)}1${'}'.repeat(62)}`;
    const payload = `{"type":"test.job","idempotencyKey":"k-deep","metadata":${metadata}}`;
    const res = await inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth(), 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBeLessThan(500);
  });

  it.each([
    ['a lone percent sign', '/v1/tasks/%'],
    ['a truncated UTF-8 sequence', '/v1/tasks/%E0%A4%A'],
    ['a bad escape before a sub-route', '/v1/tasks/%E0%A4%A/result'],
    ['a 5,000-character id', `/v1/tasks/${'a'.repeat(5000)}`],
    ['a 5,000-character id to cancel', `/v1/tasks/${'a'.repeat(5000)}/cancel`],
    ['a 65-character id', `/v1/tasks/${'a'.repeat(65)}`],
    ['a dot in an id', '/v1/tasks/a.b'],
  ])('GET with %s answers 400 invalid', async (_what, url) => {
    const res = await inject({ method: 'GET', url, headers: auth() });
    expectError(res.statusCode, res.json(), 'invalid');
  });

  it.each([
    ['text/plain', '{"type":"test.job"}'],
    ['application/xml', '<task/>'],
    ['application/x-www-form-urlencoded', 'type=test.job'],
    ['application/json', ''],
    ['application/json', '{"type":'],
    ['application/json', 'null'],
    ['application/json', '[]'],
    ['application/json', '"str"'],
  ])('POST /v1/tasks with %s %j answers 400 invalid', async (type, payload) => {
    const res = await inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth(), 'content-type': type }, payload });
    expectError(res.statusCode, res.json(), 'invalid');
  });

  it('a body over the limit is too_large', async () => {
    const res = await inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'test.job', metadata: { x: 'x'.repeat(600 * 1024) } }),
    });
    expectError(res.statusCode, res.json(), 'too_large', 413);
  });
});

describe('every bad input is a clear 4xx over NATS', () => {
  it('deep nesting is invalid on every verb', async () => {
    for (const verb of ['submit', 'status', 'list', 'cancel', 'retry', 'history']) {
      const r = await call(verb, deep(5000));
      expectError(r.status, r.body, 'invalid');
    }
  });

  it('a tenant that no API key names is unauthorized and nothing is written', async () => {
    const r = await call('submit', { type: 'test.job' }, 'zzz');
    expectError(r.status, r.body, 'unauthorized', 401);
    expectError((await call('list', {}, 'zzz')).status, (await call('list', {}, 'zzz')).body, 'unauthorized', 401);
    const info = await (await jetstreamManager(rig.nc)).streams.info(STREAMS.events, { subjects_filter: 'errand.events.zzz.>' });
    expect(info.state.subjects ?? {}).toEqual({});
  });
});

describe('a 10 MB result', () => {
  const id = '01TENMBRESULT0000000000000';
  const big = { rows: 'r'.repeat(10 * 1024 * 1024) };
  beforeAll(async () => {
    const task = { taskId: id, tenant: 'acme' };
    const { ref } = await new Blobs(rig.nc).putJson(blobNames.result('acme', id), big);
    await append(
      makeEvent('submitted', task, new Date(), { user: 'u', taskType: 'test.job', params: {}, priority: 5, timeoutMs: 60_000, progressEveryMs: 10_000, deliver: [] }),
      makeEvent('queued', task, new Date(), { position: 0 }),
      makeEvent('dispatched', task, new Date(), { attempt: 1, pool: 'default' }),
      makeEvent('started', task, new Date(), { attempt: 1, workerId: 'w1' }),
      makeEvent('completed', task, new Date(), { attempt: 1, resultRef: ref }),
    );
  });

  it('status over HTTP is small and links the result', async () => {
    const res = await inject({ method: 'GET', url: `/v1/tasks/${id}`, headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBeLessThan(4096);
    expect(res.json()).toMatchObject({ state: 'completed', resultUrl: `/v1/tasks/${id}/result`, resultBytes: JSON.stringify(big).length });
    expect(res.json().result).toBeUndefined();
  });

  it('status over NATS answers with the same bounded view', async () => {
    const r = await call('status', { id });
    expect([r.status, r.body.state, r.body.resultUrl]).toEqual([200, 'completed', `/v1/tasks/${id}/result`]);
    expect(r.bytes).toBeLessThan(4096);
  });

  it('GET /result gives the whole result', async () => {
    const res = await inject({ method: 'GET', url: `/v1/tasks/${id}/result`, headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id, state: 'completed', partial: false, result: big });
  });

  it('an inline result over the view limit is linked too; a small one stays in the view', async () => {
    const task = (t: string) => ({ taskId: t, tenant: 'acme' });
    for (const [t, result] of [['01INLINEBIG000000000000000', { s: 'x'.repeat(100 * 1024) }], ['01INLINESMALL0000000000000', { n: 1 }]] as const) {
      await append(
        makeEvent('submitted', task(t), new Date(), { user: 'u', taskType: 'test.job', params: {}, priority: 5, timeoutMs: 60_000, progressEveryMs: 10_000, deliver: [] }),
        makeEvent('completed', task(t), new Date(), { attempt: 1, result }),
      );
    }
    const big = (await inject({ method: 'GET', url: '/v1/tasks/01INLINEBIG000000000000000', headers: auth() })).json();
    expect([big.result, big.resultUrl]).toEqual([undefined, '/v1/tasks/01INLINEBIG000000000000000/result']);
    const small = (await inject({ method: 'GET', url: '/v1/tasks/01INLINESMALL0000000000000', headers: auth() })).json();
    expect([small.result, small.resultUrl]).toEqual([{ n: 1 }, undefined]);
  });

  it('a NATS reply over max_payload is a too_large error body, never silence', async () => {
    // three tasks with 400 KB of metadata each: a list of them is over 1 MB
    for (let i = 0; i < 3; i++) {
      const r = await call('submit', { type: 'test.job', user: 'fat', metadata: { pad: 'p'.repeat(400 * 1024) } });
      expect(r.status).toBe(202);
    }
    const r = await call('list', { user: 'fat' });
    expectError(r.status, r.body, 'too_large', 413);
    expect(r.bytes).toBeLessThan(4096);
  });
});
