import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, encodeJson, makeEvent, type ErrandEvent } from '@errand/contracts';
import { SecretBox, SecretStore } from '@errand/secrets';
import { waitFor } from '@errand/testing';
import { auth, startRig, typeInfo, type Rig } from './test-support.ts';

let rig: Rig;
const inject = (opts: InjectOptions) => rig.intake.app.inject(opts);

async function submit(body: Record<string, unknown>, tenant: 'acme' | 'other' = 'acme') {
  return await inject({ method: 'POST', url: '/v1/tasks', headers: auth(tenant), payload: { type: 'test.job', ...body } });
}
async function submitId(body: Record<string, unknown> = {}): Promise<string> {
  const res = await submit(body);
  expect(res.statusCode, res.body).toBe(202);
  return res.json().id as string;
}
const task = (id: string) => ({ taskId: id, tenant: 'acme' });
async function append(...events: ErrandEvent[]) {
  for (const e of events) await rig.log.append(e, { idExtra: Math.random().toString(36).slice(2) });
}
const startedTask = (id: string) => [
  makeEvent('dispatched', task(id), new Date(), { attempt: 1, pool: 'default' }),
  makeEvent('started', task(id), new Date(), { attempt: 1, workerId: 'w1' }),
];

beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

describe('readiness', () => {
  it('is 503 until the built-in types are known, then 200', async () => {
    const before = await inject({ url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json().checks.types.ok).toBe(false);
    expect((await inject({ url: '/healthz' })).statusCode).toBe(200);
    for (const t of ['demo.noop', 'demo.sleep', 'demo.report', 'test.job']) {
      await rig.registerType(typeInfo(t, t === 'test.job' ? { type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, additionalProperties: false } : {}));
    }
    await waitFor(async () => (await inject({ url: '/readyz' })).statusCode === 200, { timeoutMs: 5_000, what: 'readyz 200' });
  });
});

describe('submit', () => {
  it('answers 202 queued with a position', async () => {
    const res = await submit({ params: { n: 1 } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ state: 'queued', position: expect.any(Number), id: expect.stringMatching(/^[0-9A-Z]{26}$/) });
  });

  it("answers from the scheduler's decision note, without waiting for the history store", async () => {
    // the stand-in scheduler writes no event for these users: only its note can answer within the decision wait
    expect((await submit({ user: 'noted' })).json()).toMatchObject({ state: 'queued', position: 777 });
    const full = await submit({ user: 'noted-full' });
    expect([full.statusCode, full.json().error]).toEqual([429, { code: 'queue_full', message: 'noted as full', details: { id: expect.any(String) } }]);
  });

  it('answers submitted when the scheduler says nothing in time', async () => {
    expect((await submit({ user: 'silent' })).json()).toMatchObject({ state: 'submitted' });
  });

  it('maps a queue_full rejection to 429 with the task id', async () => {
    const res = await submit({ user: 'full' });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toEqual({ error: { code: 'queue_full', message: expect.any(String), details: { id: expect.any(String) } } });
  });

  it('refuses an unknown type (404), bad params (400 with details), malformed JSON, a huge body', async () => {
    const unknown = await submit({ type: 'no.such' });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'unknown_type']);
    const bad = await submit({ params: { n: -1, extra: true } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid');
    expect(bad.json().error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['params.extra', 'params.n']));
    const shape = await submit({ priority: 'urgent' });
    expect([shape.statusCode, shape.json().error.details[0].path]).toEqual([400, 'priority']);
    const json = await inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"type": ' });
    expect([json.statusCode, json.json().error.code]).toEqual([400, 'invalid']);
    const big = await submit({ params: { blob: 'x'.repeat(513 * 1024) } });
    expect([big.statusCode, big.json().error.code]).toEqual([413, 'too_large']);
    const long = await submit({ timeoutMs: 10 ** 12 });
    expect([long.statusCode, long.json().error.code]).toEqual([400, 'invalid']);
  });

  it('refuses internal webhook URLs and foreign nats subjects', async () => {
    for (const url of ['http://169.254.169.254/', 'http://10.0.0.1/', 'file:///etc/passwd', 'gopher://example.com/', 'http://localhost:8080/']) {
      const res = await submit({ deliver: [{ kind: 'webhook', url, secret: 'whsec_abcdefgh' }] });
      expect([res.statusCode, res.json().error.code], url).toEqual([400, 'invalid']);
      expect(res.json().error.message).toMatch(/refused/);
    }
    for (const subject of ['errand.notify.other.x', 'errand.notify.acme.*', 'errand.events.acme.x']) {
      const res = await submit({ deliver: [{ kind: 'nats', subject }] });
      expect(res.statusCode, subject).toBe(400);
    }
  });

  it('refuses an email target when no SMTP server is configured, and a malformed address', async () => {
    const unconfigured = await submit({ deliver: [{ kind: 'email', to: 'ana@example.test' }] });
    expect(unconfigured.statusCode).toBe(400);
    expect(unconfigured.json().error.message).toMatch(/ERRAND_SMTP_URL/);
    const malformed = await submit({ deliver: [{ kind: 'email', to: 'not an address' }] });
    expect(malformed.statusCode).toBe(400);
  });

  it('keeps target secrets out of every answer and event', async () => {
    const secret = 'whsec_topsecret_9876';
    const slackUrl = 'https://hooks.slack.com/services/T000/B000/slacksecretXYZW';
    const res = await submit({
      deliver: [
        { kind: 'webhook', url: 'https://example.com/hook', secret },
        { kind: 'slack', url: slackUrl },
        { kind: 'nats', subject: 'errand.notify.acme.conv-1' },
        { kind: 'memory' },
      ],
    });
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    const answers = [res.body, (await inject({ url: `/v1/tasks/${id}`, headers: auth() })).body, (await inject({ url: `/v1/tasks/${id}/events`, headers: auth() })).body];
    for (const text of answers) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('slacksecret');
    }
    const [first] = await rig.log.history('acme', id);
    expect(first!.event.type).toBe('submitted');
    const deliver = (first!.event as Extract<ErrandEvent, { type: 'submitted' }>).deliver;
    expect(deliver[0]).toEqual({ kind: 'webhook', url: 'https://example.com/hook', secretRef: `acme.${id}.0`, secretHint: '9876' });
    expect(deliver[1]).toEqual({ kind: 'slack', host: 'hooks.slack.com', secretRef: `acme.${id}.1`, secretHint: 'XYZW' });
    const store = new SecretStore(rig.nc, new SecretBox('test-secret-key-0123456789abcdef'));
    expect(await store.get(`acme.${id}.0`)).toBe(secret);
    expect(await store.get(`acme.${id}.1`)).toBe(slackUrl);
  });

  it('is idempotent per key and body; a different body is a conflict', async () => {
    const a = await submit({ idempotencyKey: 'conv-9-msg-3', params: { n: 2 } });
    const b = await submit({ idempotencyKey: 'conv-9-msg-3', params: { n: 2 } });
    expect(a.statusCode).toBe(202);
    expect(b.json().id).toBe(a.json().id);
    const c = await submit({ idempotencyKey: 'conv-9-msg-3', params: { n: 3 } });
    expect([c.statusCode, c.json().error.code]).toEqual([409, 'conflict']);
    // another tenant's same key is its own
    const d = await submit({ idempotencyKey: 'conv-9-msg-3', params: { n: 2 } }, 'other');
    expect(d.json().id).not.toBe(a.json().id);
  });

  it('lets a rejected task give its idempotency key up', async () => {
    const a = await submit({ idempotencyKey: 'k-rej', user: 'full' });
    expect(a.statusCode).toBe(429);
    const b = await submit({ idempotencyKey: 'k-rej', user: 'full' });
    expect(b.statusCode).toBe(429);
    expect(b.json().error.details.id).not.toBe(a.json().error.details.id);
  });
});

describe('auth and tokens', () => {
  it('needs a known key, and hides other tenants', async () => {
    expect((await inject({ url: '/v1/tasks' })).statusCode).toBe(401);
    const bad = await inject({ url: '/v1/tasks', headers: { authorization: 'Bearer nope' } });
    expect([bad.statusCode, bad.json().error.code]).toEqual([401, 'unauthorized']);
    const id = await submitId();
    const other = await inject({ url: `/v1/tasks/${id}`, headers: auth('other') });
    expect([other.statusCode, other.json().error.code]).toEqual([404, 'not_found']);
    expect((await inject({ method: 'POST', url: `/v1/tasks/${id}/cancel`, headers: auth('other') })).statusCode).toBe(404);
  });

  it('refuses bad tokens in paths', async () => {
    for (const url of ['/v1/tasks/a.b', '/v1/tasks/*', '/v1/tasks/a%20b/events', '/v1/memory/x.y']) {
      const res = await inject({ url, headers: auth() });
      expect([res.statusCode, res.json().error.code], url).toEqual([400, 'invalid']);
    }
    expect((await inject({ url: '/v1/nothing', headers: auth() })).json().error.code).toBe('not_found');
  });
});

describe('status, list, result', () => {
  it('reads its writes', async () => {
    const id = await submitId();
    await append(...startedTask(id), makeEvent('progress', task(id), new Date(), { attempt: 1, percent: 40, message: 'half', etaMs: 1000 }));
    const res = await inject({ url: `/v1/tasks/${id}`, headers: auth() });
    expect(res.json()).toMatchObject({ id, state: 'running', progress: { percent: 40, message: 'half', etaMs: 1000 }, attempt: 1, priority: 4 });
  });

  it('lists with filters and a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await submitId({ user: 'lister' }));
    await append(...startedTask(ids[1]!));
    const all = await inject({ url: '/v1/tasks?user=lister&limit=2', headers: auth() });
    expect(all.json().items.map((t: { id: string }) => t.id)).toEqual([ids[4], ids[3]]);
    const next = await inject({ url: `/v1/tasks?user=lister&limit=2&cursor=${all.json().nextCursor}`, headers: auth() });
    expect(next.json().items.map((t: { id: string }) => t.id)).toEqual([ids[2], ids[1]]);
    await waitFor(async () => (await rig.intake.ctx.readModel.get('acme', ids[1]!))?.state === 'running', { what: 'running' });
    const running = await inject({ url: '/v1/tasks?user=lister&state=running', headers: auth() });
    expect(running.json()).toEqual({ items: [expect.objectContaining({ id: ids[1] })], nextCursor: null });
    expect((await inject({ url: '/v1/tasks?state=bogus', headers: auth() })).statusCode).toBe(400);
    expect((await inject({ url: '/v1/tasks?cursor=zzz', headers: auth() })).statusCode).toBe(400);
  });

  it('answers results, partial results from blobs, and 404 without either', async () => {
    const done = await submitId();
    await append(...startedTask(done), makeEvent('completed', task(done), new Date(), { attempt: 1, result: { rows: 3 } }));
    expect((await inject({ url: `/v1/tasks/${done}/result`, headers: auth() })).json()).toEqual({ id: done, state: 'completed', partial: false, result: { rows: 3 } });

    const cut = await submitId();
    const blobs = await new Objm(rig.nc).open(BUCKETS.blobs);
    await blobs.putBlob({ name: `cp/acme/${cut}/1` }, encodeJson({ steps: 4 }));
    await append(...startedTask(cut), makeEvent('cancelled', task(cut), new Date(), { attempt: 1, partial: `obj:cp/acme/${cut}/1` }));
    expect((await inject({ url: `/v1/tasks/${cut}/result`, headers: auth() })).json()).toMatchObject({ state: 'cancelled', partial: true, result: { steps: 4 } });
    expect((await inject({ url: `/v1/tasks/${cut}`, headers: auth() })).json().partialResult).toEqual({ steps: 4 });

    const none = await submitId();
    expect((await inject({ url: `/v1/tasks/${none}/result`, headers: auth() })).statusCode).toBe(404);
  });
});

describe('cancel and retry', () => {
  it('cancels: 202, again 202 without a new event, 409 once terminal', async () => {
    const id = await submitId();
    await append(...startedTask(id));
    const first = await inject({ method: 'POST', url: `/v1/tasks/${id}/cancel`, headers: auth(), payload: { reason: 'changed my mind' } });
    expect([first.statusCode, first.json()]).toEqual([202, { id, state: 'running' }]);
    const again = await inject({ method: 'POST', url: `/v1/tasks/${id}/cancel`, headers: auth() });
    expect(again.statusCode).toBe(202);
    const events = (await rig.log.history('acme', id)).map((s) => s.event.type);
    expect(events.filter((t) => t === 'cancel-requested')).toHaveLength(1);
    await append(makeEvent('cancelled', task(id), new Date(), { attempt: 1 }));
    const late = await inject({ method: 'POST', url: `/v1/tasks/${id}/cancel`, headers: auth() });
    expect([late.statusCode, late.json().error.code]).toEqual([409, 'conflict']);
    const badBody = await inject({ method: 'POST', url: `/v1/tasks/${id}/cancel`, headers: auth(), payload: { nope: 1 } });
    expect(badBody.statusCode).toBe(400);
  });

  it('retries only failed, timed-out or cancelled tasks', async () => {
    const id = await submitId();
    const early = await inject({ method: 'POST', url: `/v1/tasks/${id}/retry`, headers: auth() });
    expect([early.statusCode, early.json().error.code]).toEqual([409, 'conflict']);
    await append(...startedTask(id), makeEvent('failed', task(id), new Date(), { attempt: 1, error: { code: 'boom', message: 'boom' }, willRetry: false }));
    const res = await inject({ method: 'POST', url: `/v1/tasks/${id}/retry`, headers: auth() });
    expect([res.statusCode, res.json()]).toEqual([202, { id, state: 'retrying' }]);
    const last = (await rig.log.history('acme', id)).at(-1)!.event;
    expect(last).toMatchObject({ type: 'retry-requested', by: 'api' });
  });
});

describe('events', () => {
  function parseSse(text: string) {
    return text
      .split('\n\n')
      .filter((block) => block.startsWith('id:'))
      .map((block) => {
        const f = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        return { id: Number(f.id), event: f.event!, data: JSON.parse(f.data!) as ErrandEvent };
      });
  }

  it('returns the history as JSON', async () => {
    const id = await submitId();
    const res = await inject({ url: `/v1/tasks/${id}/events`, headers: auth() });
    expect(res.json().map((e: ErrandEvent) => e.type)).toEqual(['submitted', 'queued']);
  });

  it('streams history then live events until terminal, and resumes after Last-Event-ID', async () => {
    const id = await submitId();
    const streaming = inject({ url: `/v1/tasks/${id}/events`, headers: { ...auth(), accept: 'text/event-stream' } });
    // the stream's consumer is up (beside the read model's): what follows is live
    const jsm = await jetstreamManager(rig.nc);
    await waitFor(async () => (await jsm.streams.info('ERRAND_EVENTS')).state.consumer_count >= 2, { what: 'the SSE consumer' });
    await append(...startedTask(id), makeEvent('completed', task(id), new Date(), { attempt: 1, result: 1 }));
    const res = await streaming;
    expect(res.headers['content-type']).toMatch(/text\/event-stream/);
    const msgs = parseSse(res.body);
    expect(msgs.map((m) => m.event)).toEqual(['submitted', 'queued', 'dispatched', 'started', 'completed']);
    const seqs = (await rig.log.history('acme', id)).map((s) => s.seq);
    expect(msgs.map((m) => m.id)).toEqual(seqs);
    expect(msgs[4]!.data).toMatchObject({ type: 'completed', taskId: id });

    const resumed = await inject({ url: `/v1/tasks/${id}/events`, headers: { ...auth(), accept: 'text/event-stream', 'last-event-id': String(seqs[2]) } });
    expect(parseSse(resumed.body).map((m) => m.id)).toEqual(seqs.slice(3));
  });
});

describe('catalog, metrics, memory, docs', () => {
  it('lists task types with schemas and observed durations', async () => {
    const res = await inject({ url: '/v1/task-types', headers: auth() });
    const job = res.json().items.find((t: { name: string }) => t.name === 'test.job');
    expect(job).toMatchObject({ paramsSchema: { type: 'object' }, defaults: { priority: 4 }, observedDurationMs: { count: expect.any(Number) } });
    const m = await inject({ url: '/v1/metrics/summary', headers: auth() });
    expect(m.json().byType['test.job']).toMatchObject({ completionMs: { count: expect.any(Number) }, failureRate: expect.any(Number) });
  });

  it('reads memory deliveries', async () => {
    const id = await submitId({ user: 'mem' });
    const kv = await new Kvm(rig.nc).open(BUCKETS.memory);
    await kv.put(`acme.mem.${id}`, encodeJson({ text: 'remember me' }));
    const list = await inject({ url: '/v1/memory?user=mem', headers: auth() });
    expect(list.json()).toEqual({ user: 'mem', items: [{ taskId: id, value: { text: 'remember me' } }] });
    expect((await inject({ url: `/v1/memory/${id}`, headers: auth() })).json()).toMatchObject({ value: { text: 'remember me' } });
    expect((await inject({ url: '/v1/memory', headers: auth() })).statusCode).toBe(400);
    const other = await submitId();
    expect((await inject({ url: `/v1/memory/${other}`, headers: auth() })).statusCode).toBe(404);
  });

  it('serves the OpenAPI document', async () => {
    const res = await inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().paths)).toEqual(expect.arrayContaining(['/v1/tasks', '/v1/tasks/{id}/events']));
  });
});

describe('development mode', () => {
  it('serves tenant default without auth', async () => {
    const { loadConfig } = await import('@errand/config');
    const { buildIntake } = await import('./app.ts');
    const { createLogger } = await import('@errand/runtime');
    const config = loadConfig({ NATS_URL: rig.server.url, ERRAND_SECRET_KEY: 'test-secret-key-0123456789abcdef' });
    expect(config.devMode).toBe(true);
    const dev = await buildIntake({ config, nc: rig.nc, log: createLogger('intake-dev', {}, 'error') });
    await dev.start();
    try {
      const res = await dev.app.inject({ method: 'POST', url: '/v1/tasks', payload: { type: 'test.job' } });
      expect(res.statusCode).toBe(202);
      const status = await dev.app.inject({ url: `/v1/tasks/${res.json().id}` });
      expect(status.json()).toMatchObject({ tenant: 'default' });
    } finally {
      await dev.stop();
    }
  });
});

describe('NATS outage', () => {
  it('answers 503 unavailable while NATS is down, and recovers', async () => {
    const id = await submitId();
    await rig.server.kill();
    await waitFor(async () => (await inject({ url: `/v1/tasks/${id}`, headers: auth() })).statusCode === 503, { timeoutMs: 10_000, what: '503 while down' });
    const down = await inject({ url: `/v1/tasks/${id}`, headers: auth() });
    expect(down.json().error.code).toBe('unavailable');
    expect((await inject({ url: '/readyz' })).statusCode).toBe(503);
    await rig.server.restart();
    await waitFor(async () => (await inject({ url: `/v1/tasks/${id}`, headers: auth() })).statusCode === 200, { timeoutMs: 15_000, what: 'status after the restart' });
    const again = await submit({});
    expect(again.statusCode).toBe(202);
  });
});
