import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { BUCKETS, STREAMS, blobNames, subjects } from '@errand/contracts';
import { createTestDatabase, freePort, waitFor, type TestDatabase } from '@errand/testing';
import { System, http, waitState, type ServiceProcess } from './harness.ts';

/** JSON over HTTP against one intake's port. */
async function at(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** The task series of /metrics (the worker gauges are each intake's own view of the heartbeats). */
async function taskSeries(port: number): Promise<string[]> {
  const text = (await at(port, 'GET', '/metrics')).body as string;
  return text
    .split('\n')
    .filter((l) => /^errand_(tasks|tasks_submitted_total|tasks_finished_total|task_wait_seconds_count|task_run_seconds_count|deliveries_total)[{ ]/.test(l))
    .sort();
}

const readyAt = (port: number, timeoutMs = 60_000) =>
  waitFor(async () => (await at(port, 'GET', '/readyz').catch(() => ({ status: 0, body: undefined }))).status === 200, {
    timeoutMs,
    intervalMs: 100,
    what: `the intake on ${port} to be ready`,
  });

describe('the history store in PostgreSQL, shared by two intakes', () => {
  let db: TestDatabase;
  let sys: System;
  let second: ServiceProcess;
  let port2 = 0;

  beforeAll(async () => {
    db = await createTestDatabase('errand_e2e');
    sys = await System.start({ env: { ERRAND_DATABASE_URL: db.url, ERRAND_LEASE_MS: '2000', ERRAND_MAX_PENDING_PER_USER: '1000' } });
    port2 = await freePort();
    second = sys.add('intake', { PORT: String(port2) });
    await readyAt(port2);
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
    await db?.drop();
  });

  it('answers the same status, lists and metrics on both intakes; one of them projects', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 30, steps: 2 }, user: i % 2 ? 'odd' : 'even' });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      ids.push(r.body.id);
    }
    for (const id of ids) await waitState(sys, id, ['completed']);
    // the second intake reads its own writes of the same store: every task it did not submit
    for (const id of ids) {
      const a = await http(sys, 'GET', `/v1/tasks/${id}`);
      const b = await at(port2, 'GET', `/v1/tasks/${id}`);
      expect(b.status).toBe(200);
      expect(b.body).toEqual(a.body);
    }
    const listA = await http(sys, 'GET', '/v1/tasks?user=odd&state=completed');
    const listB = await at(port2, 'GET', '/v1/tasks?user=odd&state=completed');
    expect(listA.body.items.map((t: { id: string }) => t.id)).toEqual([ids[5], ids[3], ids[1]]);
    expect(listB.body).toEqual(listA.body);
    expect((await at(port2, 'GET', '/v1/metrics/summary')).body).toEqual((await http(sys, 'GET', '/v1/metrics/summary')).body);
    expect(await taskSeries(port2)).toEqual(await taskSeries(sys.port));
    expect(await taskSeries(sys.port)).toContain('errand_tasks_finished_total{tenant="default",type="demo.sleep",outcome="completed"} 6');
    const projecting = [sys.get('intake'), second].filter((p) => /this intake projects the event log/.test(p.output));
    expect(projecting).toHaveLength(1);
  });

  it('a task submitted on one intake is decided and followed on the other (the projector notes)', async () => {
    const r = await at(port2, 'POST', '/v1/tasks', { type: 'demo.noop', params: { result: 'via two' } });
    expect(r.status).toBe(202);
    expect(['queued', 'dispatched', 'running', 'completed']).toContain(r.body.state);
    const done = await waitState(sys, r.body.id, ['completed']);
    expect(done.result).toBe('via two');
  });

  it('loses no update when the projecting intake is killed mid-load', async () => {
    const before = (await taskSeries(sys.port)).find((l) => l.startsWith('errand_tasks_submitted_total{tenant="default",type="demo.noop"}'));
    const noopBefore = before ? Number(before.split(' ').pop()) : 0;
    const projector = [sys.get('intake'), second].find((p) => /this intake projects the event log/.test(p.output))!;
    const survivorPort = projector === second ? sys.port : port2;
    const ids: string[] = [];
    for (let round = 0; round < 4; round++) {
      const tasks = Array.from({ length: 50 }, (_, i) => ({ type: 'demo.noop', params: { result: round * 50 + i } }));
      const r = await at(survivorPort, 'POST', '/v1/tasks/batch', { tasks });
      expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBeLessThan(300);
      for (const item of r.body.items) {
        expect(item.id, JSON.stringify(item)).toBeDefined();
        ids.push(item.id);
      }
      if (round === 1) await projector.stop('SIGKILL');
    }
    // the survivor takes the lease and projects on from what the store applied
    for (const id of ids) {
      await waitFor(async () => (await at(survivorPort, 'GET', `/v1/tasks/${id}`)).body?.state === 'completed', {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `task ${id} completed as the surviving intake reads it`,
      });
    }
    const lines = await taskSeries(survivorPort);
    expect(lines).toContain(`errand_tasks_submitted_total{tenant="default",type="demo.noop"} ${noopBefore + 200}`);
    const survivor = projector === second ? sys.get('intake') : second;
    expect(survivor.output).toMatch(/this intake projects the event log/);
  });
});

describe('retention and restarts on the embedded store', () => {
  let sys: System;
  beforeAll(async () => {
    // 0.00005 days = 4.3 s; results over 1 KiB go to the object store
    sys = await System.start({ env: { ERRAND_HISTORY_DAYS: '0.00005', ERRAND_RETENTION_SWEEP_MS: '1000', ERRAND_RESULT_INLINE_MAX: '1024' } });
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
  });

  it('removes a task that ended longer ago than ERRAND_HISTORY_DAYS from the store and the log: 404', async () => {
    const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.noop', params: { result: 'x'.repeat(4096) } });
    const id = r.body.id as string;
    await waitState(sys, id, ['completed']);
    const blobs = await new Objm(sys.nc).open(BUCKETS.blobs);
    const blob = blobNames.result('default', id);
    expect(await blobs.info(blob)).not.toBeNull();
    const jsm = await jetstreamManager(sys.nc);
    const subject = subjects.event('default', id);
    expect((await jsm.streams.getMessage(STREAMS.events, { last_by_subj: subject }))?.seq ?? 0).toBeGreaterThan(0);
    await waitFor(async () => (await http(sys, 'GET', `/v1/tasks/${id}`)).status === 404, { timeoutMs: 30_000, intervalMs: 200, what: 'the expired task to answer 404' });
    await waitFor(
      async () => {
        const info = await jsm.streams.info(STREAMS.events, { subjects_filter: subject });
        return Object.keys(info.state.subjects ?? {}).length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "the expired task's events to leave the log" },
    );
    expect((await http(sys, 'GET', `/v1/tasks/${id}/events`)).status).toBe(404);
    // its large result went with it
    await waitFor(
      async () => {
        const info = await blobs.info(blob);
        return info === null || info.deleted;
      },
      { timeoutMs: 10_000, what: "the expired task's result blob to be deleted" },
    );
    await sys.get('intake').waitForLog(/removed tasks past the history retention/);
  });

  it('starts again on its store without replaying the log, and still answers', async () => {
    // running throughout: an ended one would be past this suite's few seconds of retention by the
    // time a restart on a loaded machine answers (opening the store alone took 9 s there)
    const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 300_000, steps: 1 } });
    const id = r.body.id as string;
    await waitState(sys, id, ['running']);
    const intake = sys.get('intake');
    await intake.stop('SIGTERM');
    const again = sys.add('intake');
    await sys.ready();
    expect((await http(sys, 'GET', `/v1/tasks/${id}`)).body.state).toBe('running');
    expect(again.output).not.toMatch(/projecting the event log into it/);
    // the store was opened before the intake's logger existed (main.ts): what it said is still logged
    expect(again.output).toMatch(/history store: embedded PGlite opened/);
    await http(sys, 'POST', `/v1/tasks/${id}/cancel`, {});
    await waitState(sys, id, ['cancelled']);
  });

  it('rebuilds a dropped store by replaying the log', async () => {
    // a running task: an ended one would be past this suite's few seconds of retention
    const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 300_000, steps: 1 } });
    const id = r.body.id as string;
    await waitState(sys, id, ['running']);
    await sys.get('intake', sys.procs.filter((p) => p.name === 'intake').length - 1).stop('SIGTERM');
    rmSync(join(sys.dataDir, 'history'), { recursive: true, force: true });
    const again = sys.add('intake');
    await sys.ready();
    expect((await waitState(sys, id, ['running'])).type).toBe('demo.sleep');
    expect(again.output).toMatch(/the history store is new: projecting the event log into it/);
    await http(sys, 'POST', `/v1/tasks/${id}/cancel`, {});
    await waitState(sys, id, ['cancelled']);
  });

  it('refuses a second intake on the same data folder, saying why, and the first one goes on', async () => {
    const second = sys.add('intake', { PORT: String(await freePort()) });
    await waitFor(() => !second.alive, { timeoutMs: 60_000, what: 'the second intake to end' });
    second.expectedExit = true;
    expect(second.child?.exitCode).not.toBe(0);
    expect(second.output).toMatch(/is open in another process \(pid \d+\).*set ERRAND_DATABASE_URL/);
    expect(second.output).not.toMatch(/unhandled promise rejection/);
    expect((await http(sys, 'GET', '/readyz')).status).toBe(200);
  });
});
