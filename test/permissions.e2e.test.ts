import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { nkeys } from '@nats-io/transport-node';
import { decidedNoteSchema, encodeJson, makeEvent, subjects, type DecidedNote } from '@errand/contracts';
import { natsConnectOptions, natsSettings } from '@errand/config';
import { connectNats } from '@errand/nats';
import { ErrandNatsClient } from '@errand/client';
import { generate } from '@errand/deploy';
import { waitFor } from '@errand/testing';
import { http, System } from './harness.ts';

// The shipped configuration (`pnpm errand-nats-config`), a real nats-server
// running it, and the services started with their own NATS users.
let sys: System;
let dir: string;
let keys: Record<string, string>;
const seed = (who: string) => join(dir, 'nats', `${who}.nk`);
const clients: { close(): Promise<void> }[] = [];

async function tenantClient(tenant: string, as = tenant, timeoutMs = 8_000): Promise<ErrandNatsClient> {
  const nc = await connect({
    ...natsConnectOptions(natsSettings({ NATS_URL: sys.nats.url, NATS_NKEY: seed(`tenant-${as}`) })),
    inboxPrefix: `_INBOX.${as}`,
  });
  clients.push(nc);
  return await ErrandNatsClient.connect({ nc, tenant, timeoutMs });
}

/** Permission errors the server sent this connection. */
function violations(nc: NatsConnection): InstanceType<typeof errors.PermissionViolationError>[] {
  const seen: InstanceType<typeof errors.PermissionViolationError>[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error' && s.error instanceof errors.PermissionViolationError) seen.push(s.error);
  })();
  return seen;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'errand-perm-'));
  keys = generate({ tenants: ['acme', 'globex'], out: dir }).apiKeys;
  // the test's own connection: an operator's user beside the generated ones
  const admin = nkeys.createUser();
  writeFileSync(seed('admin'), new TextDecoder().decode(admin.getSeed()));
  const conf = readFileSync(join(dir, 'nats-server.conf'), 'utf8').replace(
    '  users = [\n',
    `  users = [\n    { nkey: "${admin.getPublicKey()}", permissions: { publish: ">", subscribe: ">" } }\n`,
  );
  const envOf = (role: string) => Object.fromEntries(readFileSync(join(dir, `${role}.env`), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  sys = await System.start({
    natsConfig: conf,
    natsEnv: { NATS_NKEY: seed('admin') },
    // every service, the built-in worker too, with its own generated NATS user
    services: ['scheduler', 'worker', 'notifier', 'intake'],
    serviceEnv: { intake: envOf('intake'), scheduler: envOf('scheduler'), worker: envOf('worker'), notifier: envOf('notifier') },
    env: { ERRAND_SECRET_KEY: 'perm-test-secret-key-0123456789ab' },
    waitReady: false,
  });
  await sys.ready().catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; the services said:\n${sys.logs().slice(-4000)}`);
  });
});

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await sys?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the shipped NATS configuration', () => {
  it('no credentials get nothing', async () => {
    await expect(connect({ servers: sys.nats.url, reconnect: false })).rejects.toBeInstanceOf(errors.AuthorizationError);
    // the SDK says so in its own terms, at once
    await expect(ErrandNatsClient.connect({ servers: sys.nats.url, tenant: 'acme' })).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('the services run with their own credentials: submit, decide, cancel', async () => {
    const acme = await tenantClient('acme');
    const sub = await acme.submit({ type: 'demo.sleep', params: { durationMs: 60_000 }, user: 'u1' });
    expect(sub.state).toBe('queued'); // the scheduler, as its own user, decided
    const cancelled = await acme.cancel(sub.id);
    expect(['queued', 'dispatched', 'cancelled']).toContain(cancelled.state);
    // over HTTP with the tenant's generated API key
    const auth = { authorization: `Bearer ${keys.acme}` };
    await waitFor(async () => (await http(sys, 'GET', `/v1/tasks/${sub.id}`, undefined, auth)).body.state === 'cancelled', {
      timeoutMs: 10_000,
      what: 'the task to be cancelled',
    });
  });

  it("the scheduler's user sends its decision notes and the intake's user hears them", async () => {
    // the intake listens as its own generated user; the scheduler, as its own, must be let through
    const nc = await connectNats({ name: 'errand-intake', settings: natsSettings({ NATS_URL: sys.nats.url, NATS_NKEY: seed('intake') }) });
    clients.push(nc);
    const seen = violations(nc);
    const notes: DecidedNote[] = [];
    const sub = nc.subscribe(subjects.decided, {
      callback: (_err, m) => {
        notes.push(decidedNoteSchema.parse(m.json()));
      },
    });
    await nc.flush();
    const acme = await tenantClient('acme');
    const { id } = await acme.submit({ type: 'demo.noop', params: { result: 1 }, user: 'u-noted' });
    const note = await waitFor(() => notes.flatMap((n) => n.d).find((d) => d.i === id), { timeoutMs: 10_000, what: `a decision note for ${id}` });
    expect(note).toMatchObject({ t: 'acme', s: 'queued' });
    expect(seen).toEqual([]);
    sub.unsubscribe();
    expect(sys.logs()).not.toMatch(/Permissions Violation/i);
  });

  it("a tenant cannot read another tenant's tasks or events", async () => {
    const globex = await tenantClient('globex');
    const theirs = await globex.submit({ type: 'demo.sleep', params: { durationMs: 60_000 }, user: 'g1' });
    const acme = await tenantClient('acme');
    // its own API answers not_found; globex's API is not its to call
    await expect(acme.status(theirs.id)).rejects.toMatchObject({ code: 'not_found' });
    const asGlobex = await tenantClient('globex', 'acme', 1_000);
    const seen = violations(asGlobex.nc);
    await expect(asGlobex.status(theirs.id)).rejects.toThrow();
    await waitFor(() => seen.some((v) => v.operation === 'publish' && v.subject === subjects.api('globex', 'status')), { timeoutMs: 5_000, what: 'a publish violation' });
    // nor listen to globex's events
    const sub = asGlobex.nc.subscribe(subjects.tenantEvents('globex'));
    await waitFor(() => seen.some((v) => v.operation === 'subscription' && v.subject === subjects.tenantEvents('globex')), { timeoutMs: 5_000, what: 'a subscription violation' });
    expect(sub.getReceived()).toBe(0);
  });

  it('a tenant cannot publish an event, a work message or a JetStream call', async () => {
    const acme = await tenantClient('acme');
    const task = await acme.submit({ type: 'demo.sleep', params: { durationMs: 60_000 }, user: 'u2' });
    const seen = violations(acme.nc);
    const forged = makeEvent('completed', { taskId: task.id, tenant: 'acme' }, new Date(), { attempt: 1, result: 'forged' });
    for (const subject of [subjects.event('acme', task.id), subjects.work('default', 'demo.sleep'), '$JS.API.STREAM.INFO.ERRAND_EVENTS', '$KV.errand_types.demo_x']) {
      acme.nc.publish(subject, encodeJson(forged));
      await waitFor(() => seen.some((v) => v.operation === 'publish' && v.subject === subject), { timeoutMs: 5_000, what: `a violation for ${subject}` });
    }
    // the log has no forged event
    expect((await acme.history(task.id)).map((e) => e.type)).not.toContain('completed');
    expect((await acme.status(task.id)).state).not.toBe('completed');
  });

  it("a task completes on the built-in worker, running with its own user", async () => {
    const acme = await tenantClient('acme');
    const { id } = await acme.submit({ type: 'demo.noop', params: { result: 42 }, user: 'u3' });
    await waitFor(async () => (await acme.status(id)).state === 'completed', { timeoutMs: 15_000, what: 'completed' });
    expect((await acme.status(id)).result).toBe(42);
    const started = (await acme.history(id)).find((e) => e.type === 'started');
    expect(started).toMatchObject({ attempt: 1 });
    // the worker process met no permission it lacks
    expect(sys.logs()).not.toMatch(/Permissions Violation/i);
  });

  it('a tenant cannot call the API of an unconfigured tenant; nor can anyone who may', async () => {
    const acme = await tenantClient('acme');
    const seen = violations(acme.nc);
    acme.nc.publish(subjects.api('zzz', 'submit'), encodeJson({ type: 'demo.noop' }));
    await waitFor(() => seen.some((v) => v.subject === subjects.api('zzz', 'submit')), { timeoutMs: 5_000, what: 'a publish violation' });
    // a user NATS lets through (the operator's) meets the intake's own check: unauthorized, nothing written
    const zzz = await ErrandNatsClient.connect({ nc: sys.nc, tenant: 'zzz', timeoutMs: 5_000 });
    await expect(zzz.submit({ type: 'demo.noop' })).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it("the worker's user cannot read tenants' inboxes or call the API", async () => {
    const nc = await connectNats({ name: 'errand-worker', settings: natsSettings({ NATS_URL: sys.nats.url, NATS_NKEY: seed('worker') }) });
    clients.push(nc);
    const seen = violations(nc);
    nc.subscribe('_INBOX.acme.>');
    nc.publish(subjects.api('acme', 'list'), encodeJson({}));
    await waitFor(() => seen.length >= 2, { timeoutMs: 5_000, what: 'two violations' });
    expect(seen.map((v) => v.operation).sort()).toEqual(['publish', 'subscription']);
  });
});
