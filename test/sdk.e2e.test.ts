import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@errand/testing';
import { System, http, waitState } from './harness.ts';
import { SdkProject, type WorkerChild } from './sdk-project.ts';

// The acceptance test of the SDKs: packed, installed with npm into a project
// outside the repository, a plain-JavaScript worker of its own type beside
// the built-in worker on the default pool.

const submit = async (sys: System, type: string, params: unknown) => {
  const r = await http(sys, 'POST', '/v1/tasks', { type, params, user: 'sdk' });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id as string;
};
const startedBy = async (sys: System, id: string) => {
  const h = await http(sys, 'GET', `/v1/tasks/${id}/events`);
  return h.body.find((e: { type: string }) => e.type === 'started')?.workerId as string | undefined;
};

describe('the SDKs, installed from their tarballs outside the repository', () => {
  const project = new SdkProject();
  let sys: System;
  let worker: WorkerChild | undefined;

  beforeAll(async () => {
    await project.install();
    sys = await System.start({ env: { ERRAND_CONCURRENCY: '1' } });
  }, 600_000);
  afterAll(async () => {
    await worker?.stop();
    await sys?.stop();
    project.remove();
  });

  it('type-checks TypeScript against the installed declarations (and params are typed, not any)', async () => {
    const ok = await project.typecheck('check.ts');
    expect(ok.out).toBe('');
    expect(ok.status).toBe(0);
    const wrong = await project.typecheck('wrong.ts');
    expect(wrong.status).not.toBe(0);
    expect(wrong.out).toMatch(/Property 'toUpperCase' does not exist on type 'number'/);
  });

  it('installs the errand binary', async () => {
    const r = await project.errand(['--help']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/errand/);
    expect(r.out).toMatch(/submit/);
  });

  it('runs every task of its own type beside the built-in worker, and the built-in types still run', async () => {
    worker = await project.startWorker(sys.nats.url);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await submit(sys, 'docs.summarise', { text: `task ${i} of the walkthrough, summarised`, words: 3 }));
    const noop = await submit(sys, 'demo.noop', { result: 'built-in' });
    const sleep = await submit(sys, 'demo.sleep', { durationMs: 200, steps: 2 });
    for (const [i, id] of ids.entries()) {
      const view = await waitState(sys, id, ['completed', 'failed', 'rejected'], 60_000);
      expect(view.state, JSON.stringify(view)).toBe('completed');
      expect(view.result).toEqual({ summary: `task ${i} of`, words: 6 });
      expect(await startedBy(sys, id)).toBe(worker.workerId);
    }
    expect(await waitState(sys, noop, ['completed', 'failed'])).toMatchObject({ state: 'completed', result: 'built-in' });
    expect(await waitState(sys, sleep, ['completed', 'failed'])).toMatchObject({ state: 'completed' });
    expect(await startedBy(sys, noop)).not.toBe(worker.workerId);
    const types = await http(sys, 'GET', '/v1/task-types');
    expect(types.body.items.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['docs.summarise', 'demo.noop']));
  });

  it('with its worker stopped, its tasks wait queued while demo.sleep runs at concurrency 1; started again, it runs them', async () => {
    expect(await worker!.stop()).toBe(0);
    worker = undefined;
    const waiting = [await submit(sys, 'docs.summarise', { text: 'one two three' }), await submit(sys, 'docs.summarise', { text: 'four five' })];
    const sleeps = [await submit(sys, 'demo.sleep', { durationMs: 200, steps: 2 }), await submit(sys, 'demo.sleep', { durationMs: 200, steps: 2 })];
    for (const id of sleeps) expect(await waitState(sys, id, ['completed', 'failed'], 60_000)).toMatchObject({ state: 'completed' });
    for (const id of waiting) {
      const view = (await http(sys, 'GET', `/v1/tasks/${id}`)).body;
      expect(view.state, JSON.stringify(view)).toBe('queued');
      expect(view.error).toBeUndefined();
      if (view.waitingOn !== undefined) expect(view.waitingOn.reason).toBe('no_worker');
    }
    worker = await project.startWorker(sys.nats.url);
    for (const id of waiting) {
      const view = await waitState(sys, id, ['completed', 'failed', 'rejected'], 60_000);
      expect(view.state, JSON.stringify(view)).toBe('completed');
    }
    await waitFor(async () => (await startedBy(sys, waiting[1]!)) === worker!.workerId, { what: 'the restarted worker to have run them' });
  });
});
