import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@errand/contracts';
import { waitFor } from '@errand/testing';
import { System, http, waitState } from './harness.ts';

const submit = async (sys: System, user: string) => {
  const r = await waitFor(
    async () => {
      const res = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 20, steps: 1 }, user });
      return res.status === 202 ? res : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `a submit by ${user} to be accepted` },
  );
  return r.body.id as string;
};

/** `/readyz` is 200 and says the log was reset with `lostTasks` gone. */
const readySayingReset = async (sys: System, since: number) => {
  let last: unknown;
  return await waitFor(
    async () => {
      const r = await http(sys, 'GET', '/readyz');
      last = r.body;
      const log = r.body?.checks?.log;
      return r.status === 200 && log?.resetAt && Date.parse(log.resetAt) >= since ? r.body : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: '/readyz to say the log was reset' },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; it said ${JSON.stringify(last)}`);
  });
};

/** A lost NATS store is noticed, said loudly, and the system takes tasks again without a restart. */
describe('a lost or reset event log', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await System.start({ env: { ERRAND_LOG_CHECK_MS: '500' } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('notices streams deleted under the running system, re-creates them and completes a new submit', async () => {
    const before = await submit(sys, 'del-1');
    await waitState(sys, before, ['completed']);
    const since = Date.now();
    const jsm = await jetstreamManager(sys.nc);
    for (const s of Object.values(STREAMS)) await jsm.streams.delete(s);

    const ready = await readySayingReset(sys, since);
    expect(ready.checks.log.reason).toMatch(/stream/);
    const after = await submit(sys, 'del-2');
    await waitState(sys, after, ['completed']);
    expect((await http(sys, 'GET', `/v1/tasks/${before}`)).status).toBe(404);
    await sys.get('intake').waitForLog(/"level":"error".*the event log was reset/);
    await sys.get('scheduler').waitForLog(/"level":"error".*the event log was reset/);
    expect(sys.crashed()).toEqual([]);
  });

  it('notices a wiped nats-server store (stopped, deleted, started again), says how many tasks are gone, and takes tasks again', async () => {
    const ids = [await submit(sys, 'wipe-1'), await submit(sys, 'wipe-2')];
    for (const id of ids) await waitState(sys, id, ['completed']);
    // the intake has recorded the log as it is now (its mark in the data folder), tasks included
    const created = (await (await jetstreamManager(sys.nc)).streams.info(STREAMS.events)).created;
    await waitFor(() => {
      const mark = JSON.parse(readFileSync(join(sys.dataDir, 'log-marks', 'intake.json'), 'utf8'));
      return mark.created[STREAMS.events] === created && mark.tasks >= 2;
    }, { what: "the intake's mark of the log with the two tasks" });
    const since = Date.now();
    await sys.nats.kill();
    rmSync(sys.nats.storeDir, { recursive: true, force: true });
    await sys.nats.restart();

    const ready = await readySayingReset(sys, since);
    // the three tasks of this suite since the first reset were known
    expect(ready.checks.log.lostTasks).toBeGreaterThanOrEqual(2);
    const after = await submit(sys, 'wipe-3');
    await waitState(sys, after, ['completed']);
    await sys.get('intake').waitForLog(/the event log was reset while running: [2-9] tasks known before are gone/);
    expect(sys.crashed()).toEqual([]);
  });

  it('says at start that the log it knew is gone when services start on a wiped store', async () => {
    for (const p of sys.procs) await p.stop();
    await sys.nats.kill();
    rmSync(sys.nats.storeDir, { recursive: true, force: true });
    await sys.nats.restart();
    const intake = sys.add('intake');
    sys.add('scheduler');
    sys.add('worker');
    await intake.waitForLog(/the event log was reset since this service last ran: \d+ tasks known before are gone/);
    await sys.ready();
    const r = await http(sys, 'GET', '/readyz');
    expect(r.body.checks.log).toMatchObject({ ok: true, reason: expect.stringMatching(/created anew/) });
    await waitState(sys, await submit(sys, 'start-1'), ['completed']);
  });
});
