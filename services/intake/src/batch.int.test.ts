import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJson, encodeJson } from '@errand/contracts';
import { auth, startRig, typeInfo, type Rig } from './test-support.ts';

let rig: Rig;

async function overHttp(body: unknown, tenant: 'acme' | 'other' = 'acme') {
  const res = await rig.intake.app.inject({ method: 'POST', url: '/v1/tasks/batch', headers: auth(tenant), payload: body as object });
  return { status: res.statusCode, body: res.json() };
}
async function overNats(body: unknown, tenant = 'acme') {
  const msg = await rig.nc.request(`errand.api.${tenant}.submit-batch`, encodeJson(body), { timeout: 10_000 });
  return { status: Number(msg.headers?.get('Errand-Status')), body: decodeJson(msg.data) as any };
}

beforeAll(async () => {
  rig = await startRig();
  await rig.registerType(typeInfo('test.job', { type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, additionalProperties: false }));
});
afterAll(async () => {
  await rig?.close();
});

const mixed = [
  { type: 'test.job', params: { n: 1 } },
  { type: 'no.such' },
  { type: 'test.job', params: { n: -1 } },
  { type: 'test.job', user: 'full' },
  { type: 'test.job', priority: 'urgent' },
  'not an object',
  { type: 'test.job', params: { n: 2 } },
];

function expectMixed(items: any[]) {
  expect(items).toHaveLength(mixed.length);
  expect(items[0]).toEqual({ id: expect.any(String), state: 'queued', position: expect.any(Number) });
  expect(items[1].error.code).toBe('unknown_type');
  expect(items[2].error).toMatchObject({ code: 'invalid', details: expect.arrayContaining([expect.objectContaining({ path: 'params.n' })]) });
  expect(items[3].error).toMatchObject({ code: 'queue_full', details: { id: expect.any(String) } });
  expect(items[4].error).toMatchObject({ code: 'invalid', details: [expect.objectContaining({ path: 'priority' })] });
  expect(items[5].error.code).toBe('invalid');
  expect(items[6]).toMatchObject({ state: 'queued' });
  expect(items[6].id).not.toBe(items[0].id);
}

describe.each([
  ['HTTP', overHttp],
  ['NATS', overNats],
] as const)('batch submit over %s', (_name, send) => {
  it('answers 202 with one item per task, in order, each decided on its own', async () => {
    const res = await send({ tasks: mixed });
    expect(res.status).toBe(202);
    expectMixed(res.body.items);
    // the accepted ones are real tasks of this tenant
    const first = await rig.intake.app.inject({ url: `/v1/tasks/${res.body.items[0].id}`, headers: auth() });
    expect([first.statusCode, first.json().type]).toEqual([200, 'test.job']);
    const other = await rig.intake.app.inject({ url: `/v1/tasks/${res.body.items[0].id}`, headers: auth('other') });
    expect(other.statusCode).toBe(404);
  });

  it('keeps idempotency keys per item: the same key twice is one task, a different body is a conflict', async () => {
    const key = `k-${_name}-${Date.now()}`;
    const res = await send({
      tasks: [
        { type: 'test.job', params: { n: 5 }, idempotencyKey: key },
        { type: 'test.job', params: { n: 5 }, idempotencyKey: key },
        { type: 'test.job', params: { n: 6 }, idempotencyKey: key },
      ],
    });
    expect(res.status).toBe(202);
    const [a, b, c] = res.body.items;
    expect(a.id).toBeDefined();
    expect(b.id).toBe(a.id);
    expect(c.error.code).toBe('conflict');
    const again = await send({ tasks: [{ type: 'test.job', params: { n: 5 }, idempotencyKey: key }] });
    expect(again.body.items[0].id).toBe(a.id);
  });

  it('takes 1,000 tasks and refuses 1,001 or none as invalid, writing nothing', async () => {
    const tasks = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'test.job', params: { n: i }, user: `batch-${_name}` }));
    const before = await rig.intake.app.inject({ url: `/v1/tasks?user=batch-${_name}&limit=1000`, headers: auth() });
    expect(before.json().items).toHaveLength(0);
    const over = await send({ tasks: tasks(1_001) });
    expect([over.status, over.body.error.code]).toEqual([400, 'invalid']);
    const none = await send({ tasks: [] });
    expect([none.status, none.body.error.code]).toEqual([400, 'invalid']);
    const shape = await send({ task: [] });
    expect([shape.status, shape.body.error.code]).toEqual([400, 'invalid']);
    const full = await send({ tasks: tasks(1_000) });
    expect(full.status).toBe(202);
    expect(full.body.items).toHaveLength(1_000);
    expect(new Set(full.body.items.map((i: { id: string }) => i.id)).size).toBe(1_000);
    // the rig waits 300 ms for decisions: a late one answers `submitted`, never an error
    expect(full.body.items.every((i: { state: string }) => ['queued', 'submitted'].includes(i.state))).toBe(true);
  });
});

describe('batch submit documentation', () => {
  it('is in the OpenAPI document', async () => {
    const res = await rig.intake.app.inject({ url: '/docs/json' });
    expect(res.json().paths['/v1/tasks/batch'].post.summary).toMatch(/1,000 tasks/);
  });
});
