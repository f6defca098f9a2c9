import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { decodeJson, encodeJson, makeEvent, subjects, waitingRequestSchema, type Heartbeat, type WaitingReply } from '@errand/contracts';
import { waitFor } from '@errand/testing';
import { auth, startRig, typeInfo, type Rig } from './test-support.ts';

let rig: Rig;
const inject = (opts: InjectOptions) => rig.intake.app.inject(opts);
const submit = (type: string, params: unknown, user = 'u') => inject({ method: 'POST', url: '/v1/tasks', headers: auth(), payload: { type, params, user } });

beforeAll(async () => {
  rig = await startRig();
  // a schema as a worker may publish it: objects that name their properties and say nothing of others
  await rig.registerType(
    typeInfo('route.strict', { type: 'object', properties: { days: { type: 'integer' }, range: { type: 'object', properties: { from: { type: 'string' } } } }, required: ['days'] }),
  );
  await rig.registerType(typeInfo('route.gone'));
  await waitFor(() => rig.intake.ctx.types.get('route.strict') && rig.intake.ctx.types.get('route.gone'), { what: 'the types' });
});
afterAll(async () => {
  await rig?.close();
});

describe('strict params', () => {
  it('refuses a property the schema does not name, naming it (at the top and nested)', async () => {
    const res = await submit('route.strict', { days: 3, dayz: 4 });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid' });
    expect(res.json().error.message).toContain('dayz');
    expect(res.json().error.details).toContainEqual(expect.objectContaining({ path: 'params.dayz' }));
    const nested = await submit('route.strict', { days: 3, range: { from: 'a', too: 1 } });
    expect(nested.statusCode).toBe(400);
    expect(nested.json().error.message).toContain('params.range.too');
    expect((await submit('route.strict', { days: 3, range: { from: 'a' } })).statusCode).toBe(202);
  });
});

describe('task types', () => {
  it('shows liveness, workers, free slots and when last seen; a type whose workers stopped stays listed', async () => {
    const beat = (stopping = false) =>
      rig.nc.publish(subjects.heartbeat, encodeJson({ workerId: 'w-route', at: new Date().toISOString(), tasks: [], types: ['route.gone'], slots: 4, freeSlots: 3, ...(stopping ? { stopping } : {}) } satisfies Heartbeat));
    const gone = async () => (await inject({ url: '/v1/task-types', headers: auth() })).json().items.find((t: { name: string }) => t.name === 'route.gone');
    expect(await gone()).toMatchObject({ live: false, workers: 0, freeSlots: 0, lastSeenAt: null });
    beat();
    await waitFor(async () => (await gone()).live, { what: 'the type to go live' });
    expect(await gone()).toMatchObject({ live: true, workers: 1, freeSlots: 3, lastSeenAt: expect.any(String), pool: 'default', observedDurationMs: { count: 0 } });
    beat(true);
    await waitFor(async () => !(await gone()).live, { what: 'the type to go offline' });
    expect(await gone()).toMatchObject({ live: false, workers: 0, lastSeenAt: expect.any(String) });
  });
});

describe('waitingOn', () => {
  it('says undecided when no scheduler answers, and the leader\'s answer when one does (status and list, HTTP and NATS)', async () => {
    const res = await submit('route.gone', {});
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    const status = async () => (await inject({ url: `/v1/tasks/${id}`, headers: auth() })).json();
    expect((await status()).waitingOn).toEqual({ reason: 'undecided', message: 'the scheduler has not answered; it may be starting or electing a leader' });
    // a stand-in leader: one request per answer, naming the waiting tasks
    const asked: string[][] = [];
    const leader = rig.nc.subscribe(subjects.waiting, {
      callback: (_err, msg) => {
        const req = waitingRequestSchema.parse(decodeJson(msg.data));
        asked.push(req.tasks.map((t) => t.id));
        const items = Object.fromEntries(req.tasks.map((t) => [t.id, { reason: 'no_worker' as const, message: 'no live worker serves the task type route.gone; it runs when one appears' }]));
        msg.respond(encodeJson({ items } satisfies WaitingReply));
      },
    });
    try {
      expect((await status()).waitingOn).toMatchObject({ reason: 'no_worker' });
      expect(asked.at(-1)).toEqual([id]);
      const list = (await inject({ url: '/v1/tasks?type=route.gone', headers: auth() })).json();
      expect(list.items.find((v: { id: string }) => v.id === id).waitingOn).toMatchObject({ reason: 'no_worker' });
      const overNats = decodeJson((await rig.nc.request(subjects.api('acme', 'status'), encodeJson({ id }), { timeout: 2_000 })).data) as { waitingOn?: unknown };
      expect(overNats.waitingOn).toMatchObject({ reason: 'no_worker' });
    } finally {
      leader.unsubscribe();
    }
  });

  it('says undecided without asking for a submitted task, and nothing for a running one', async () => {
    const res = await inject({ method: 'POST', url: '/v1/tasks', headers: auth(), payload: { type: 'route.gone', params: {}, user: 'silent' } });
    const id = res.json().id as string;
    expect((await inject({ url: `/v1/tasks/${id}`, headers: auth() })).json().waitingOn).toEqual({ reason: 'undecided', message: 'no scheduler has decided it yet' });
    const t = { taskId: id, tenant: 'acme' };
    await rig.log.append(makeEvent('queued', t, new Date(), { position: 0 }));
    await rig.log.append(makeEvent('dispatched', t, new Date(), { attempt: 1, pool: 'default' }));
    await waitFor(async () => (await inject({ url: `/v1/tasks/${id}`, headers: auth() })).json().state === 'dispatched', { what: 'dispatched' });
    expect((await inject({ url: `/v1/tasks/${id}`, headers: auth() })).json()).not.toHaveProperty('waitingOn');
  });
});
