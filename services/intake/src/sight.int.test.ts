import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { makeEvent } from '@errand/contracts';
import { waitFor } from '@errand/testing';
import { KEYS, auth, startRig, typeInfo, type Rig } from './test-support.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

describe('/metrics auth, the dashboard files and the live task list', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
    await rig.registerType(typeInfo('test.job'));
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('with API keys and no ERRAND_METRICS_TOKEN, /metrics does not exist', async () => {
    const res = await rig.intake.app.inject({ url: '/metrics', headers: auth() });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it('serves the dashboard and chart.js from this origin, and nothing else under /dashboard', async () => {
    const page = await rig.intake.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('/dashboard/app.js');
    const chart = await rig.intake.app.inject({ url: '/dashboard/chart.umd.min.js' });
    expect(chart.statusCode).toBe(200);
    expect(chart.body.length).toBeGreaterThan(100_000);
    for (const url of ['/dashboard/nope.js', '/dashboard/..%2Fapp.ts', '/dashboard/index.html']) {
      expect((await rig.intake.app.inject({ url })).statusCode, url).toBe(404);
    }
  });

  it('streams the tenant task changes live, only its own tenant, and lets go when the client leaves', async () => {
    const res = await rig.intake.app.inject({
      url: '/v1/tasks?type=test.job',
      headers: { ...auth(), accept: 'text/event-stream' },
      payloadAsStream: true,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const stream = res.stream() as Readable;
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    const other = await rig.intake.app.inject({ method: 'POST', url: '/v1/tasks', headers: auth('other'), payload: { type: 'test.job' } });
    expect(other.statusCode).toBe(202);
    const mine = await rig.intake.app.inject({ method: 'POST', url: '/v1/tasks', headers: auth(), payload: { type: 'test.job' } });
    const id = mine.json().id as string;
    await rig.log.append(makeEvent('dispatched', { taskId: id, tenant: 'acme' }, new Date(), { attempt: 1, pool: 'default' }));
    await waitFor(() => text.includes('"state":"dispatched"'), { timeoutMs: 5_000, what: 'the dispatched view on the stream' });
    const views = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { id: string; tenant: string });
    expect(views.every((v) => v.tenant === 'acme' && v.id === id)).toBe(true);
    expect(text).toMatch(/event: task\n/);
    stream.destroy();
  });

  it('removes a live list when its client goes away (a real socket: inject never closes one)', async () => {
    const listeners = () => (rig.intake.ctx.readModel as unknown as { listeners: Set<unknown> }).listeners.size;
    const base = listeners();
    const address = await rig.intake.app.listen({ host: '127.0.0.1', port: 0 });
    const ac = new AbortController();
    const res = await fetch(`${address}/v1/tasks`, { headers: { ...auth(), accept: 'text/event-stream' }, signal: ac.signal });
    expect(res.status).toBe(200);
    await waitFor(() => listeners() === base + 1, { timeoutMs: 5_000, what: 'the live list to listen' });
    ac.abort();
    await waitFor(() => listeners() === base, { timeoutMs: 5_000, what: 'the live list to remove its listener' });
  });

  it('a bad filter on the live list is invalid', async () => {
    const res = await rig.intake.app.inject({ url: '/v1/tasks?state=nope', headers: { ...auth(), accept: 'text/event-stream' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid');
  });
});

describe('/metrics in development mode and with a token', () => {
  it('is open in development mode, with the series DESIGN.md names', async () => {
    const rig = await startRig({ ERRAND_API_KEYS: '' });
    try {
      await rig.registerType(typeInfo('test.job'));
      expect((await rig.intake.app.inject({ method: 'POST', url: '/v1/tasks', payload: { type: 'test.job' } })).statusCode).toBe(202);
      const res = await waitFor(
        async () => {
          const r = await rig.intake.app.inject({ url: '/metrics' });
          return r.body.includes('errand_tasks_submitted_total{tenant="default",type="test.job"} 1') ? r : undefined;
        },
        { timeoutMs: 5_000, what: 'the submit counted' },
      );
      expect(res.statusCode).toBe(200);
      for (const name of ['errand_tasks_finished_total', 'errand_task_wait_seconds', 'errand_task_run_seconds', 'errand_tasks', 'errand_workers', 'errand_worker_slots_free', 'errand_deliveries_total']) {
        expect(res.body).toContain(`# TYPE ${name} `);
      }
      expect(res.body).toContain('errand_tasks{tenant="default",state="queued"} 1');
    } finally {
      await rig.close();
    }
  });

  it('with API keys and a token, answers the token only', async () => {
    const rig = await startRig({ ERRAND_METRICS_TOKEN: TOKEN });
    try {
      const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
      expect((await rig.intake.app.inject({ url: '/metrics' })).statusCode).toBe(401);
      expect((await rig.intake.app.inject({ url: '/metrics', headers: bearer(KEYS.acme) })).statusCode).toBe(401);
      expect((await rig.intake.app.inject({ url: '/metrics', headers: bearer(`${TOKEN}x`) })).statusCode).toBe(401);
      expect((await rig.intake.app.inject({ url: '/metrics', headers: bearer(TOKEN) })).statusCode).toBe(200);
    } finally {
      await rig.close();
    }
  });
});
