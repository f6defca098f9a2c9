import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Svcm } from '@nats-io/services';
import { decodeJson, encodeJson, makeEvent, type ErrandEvent } from '@errand/contracts';
import { startRig, typeInfo, type Rig } from './test-support.ts';

let rig: Rig;

async function call(verb: string, body: unknown, tenant = 'acme'): Promise<{ status: number; body: any }> {
  const data = typeof body === 'string' ? new TextEncoder().encode(body) : encodeJson(body);
  const msg = await rig.nc.request(`errand.api.${tenant}.${verb}`, data, { timeout: 5_000 });
  return { status: Number(msg.headers?.get('Errand-Status')), body: decodeJson(msg.data) };
}
const task = (id: string) => ({ taskId: id, tenant: 'acme' });

beforeAll(async () => {
  rig = await startRig();
  await rig.registerType(typeInfo('test.job', { type: 'object', properties: { n: { type: 'integer' } } }));
});
afterAll(async () => {
  await rig?.close();
});

describe('NATS API', () => {
  it('is a micro service named errand with one endpoint per verb', async () => {
    const infos = await new Svcm(rig.nc).client().info('errand');
    const all = [];
    for await (const i of infos) all.push(i);
    expect(all[0]!.endpoints.map((e) => e.subject).sort()).toEqual(
      ['cancel', 'history', 'list', 'retry', 'status', 'submit', 'submit-batch'].map((v) => `errand.api.*.${v}`),
    );
  });

  it('submits, reads status, history and list', async () => {
    const sub = await call('submit', { type: 'test.job', params: { n: 1 }, user: 'nats-user' });
    expect(sub.status).toBe(202);
    expect(sub.body).toMatchObject({ state: 'queued' });
    const id = sub.body.id as string;
    const status = await call('status', { id });
    expect([status.status, status.body.state, status.body.id]).toEqual([200, 'queued', id]);
    const history = await call('history', { id });
    expect(history.body.map((e: ErrandEvent) => e.type)).toEqual(['submitted', 'queued']);
    const list = await call('list', { user: 'nats-user', limit: 10 });
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([id]);
    // the tenant is the subject's: another one does not see it
    expect((await call('status', { id }, 'other')).body.error.code).toBe('not_found');
  });

  it('cancels and retries', async () => {
    const id = (await call('submit', { type: 'test.job' })).body.id as string;
    const c = await call('cancel', { id, reason: 'stop' });
    expect(c.status).toBe(202);
    await rig.log.append(makeEvent('cancelled', task(id), new Date(), {}));
    expect((await call('cancel', { id })).body.error.code).toBe('conflict');
    const r = await call('retry', { id });
    expect([r.status, r.body]).toEqual([202, { id, state: 'retrying' }]);
  });

  it('answers errors as JSON bodies, never crashing', async () => {
    const bad = await call('submit', '{not json');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid']);
    const unknown = await call('submit', { type: 'no.such.type' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'unknown_type']);
    const full = await call('submit', { type: 'test.job', user: 'full' });
    expect([full.status, full.body.error.code, typeof full.body.error.details.id]).toEqual([429, 'queue_full', 'string']);
    const noId = await call('status', {});
    expect([noId.status, noId.body.error.code]).toEqual([400, 'invalid']);
    const badId = await call('history', { id: 'a.b' });
    expect(badId.body.error.code).toBe('invalid');
    const missing = await call('status', { id: 'NOPE' });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    const badList = await call('list', { state: 'nope' });
    expect(badList.body.error.code).toBe('invalid');
    // still serving
    expect((await call('list', {})).status).toBe(200);
  });
});
