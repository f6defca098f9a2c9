import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@errand/contracts';
import { waitFor } from '@errand/testing';
import { auth, startRig, typeInfo, type Rig } from './test-support.ts';

// The projector pauses between two batches of a trickle (here 10 s, far beyond a status
// read's 2 s wait for the store): a read that waits for the store ends the pause.
let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ ERRAND_PROJECTOR_INTERVAL_MS: '10000' });
  await rig.registerType(typeInfo('test.job'));
  for (const t of ['demo.noop', 'demo.sleep', 'demo.report']) await rig.registerType(typeInfo(t));
  await waitFor(async () => (await rig.intake.app.inject({ url: '/readyz' })).statusCode === 200, { timeoutMs: 10_000, what: 'readyz 200' });
});
afterAll(async () => {
  await rig?.close();
});

describe("the projector's pause", () => {
  it('ends when a status read waits for the store: the read answers the newest state, not 503', async () => {
    const sub = await rig.intake.app.inject({ method: 'POST', url: '/v1/tasks', headers: auth(), payload: { type: 'test.job', params: {} } });
    expect(sub.statusCode, sub.body).toBe(202);
    const id = sub.json().id as string;
    // the projector has written what came so far and pauses now; the task moves on in the log
    const task = { taskId: id, tenant: 'acme' };
    await rig.log.append(makeEvent('dispatched', task, new Date(), { attempt: 1, pool: 'default' }), { idExtra: 'pace-1' });
    await rig.log.append(makeEvent('started', task, new Date(), { attempt: 1, workerId: 'w1' }), { idExtra: 'pace-2' });
    const status = await rig.intake.app.inject({ url: `/v1/tasks/${id}`, headers: auth() });
    expect(status.statusCode, status.body).toBe(200);
    expect(status.json()).toMatchObject({ id, state: 'running' });
  });
});
