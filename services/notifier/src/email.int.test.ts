import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { NatsConnection } from '@nats-io/transport-node';
import { makeEvent, newTaskId, type ErrandEvent } from '@errand/contracts';
import { connectNats, EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { loadConfig } from '@errand/config';
import { startNatsServer, waitFor, type NatsServer } from '@errand/testing';
import { buildNotifier, type Notifier } from './app.ts';

interface Mail { to: string; raw: string }
let server: NatsServer;
let nc: NatsConnection;
let log: EventLog;
let smtp: SMTPServer;
let notifier: Notifier;
let dataDir: string;
const mails: Mail[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: 'email-test' });
  await provision(nc);
  log = new EventLog(nc);
  // a real SMTP server on 127.0.0.1 that refuses one address with 550
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('nobody@')) {
        const err = Object.assign(new Error('no such mailbox'), { responseCode: 550 });
        cb(err);
      } else cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), raw });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as { port: number }).port;
  dataDir = mkdtempSync(join(tmpdir(), 'errand-email-'));
  const config = loadConfig({
    NATS_URL: server.url,
    ERRAND_SECRET_KEY: 'k'.repeat(32),
    ERRAND_DATA_DIR: dataDir,
    ERRAND_SMTP_URL: `smtp://127.0.0.1:${port}`,
    ERRAND_EMAIL_FROM: 'Errand <errand@example.test>',
  });
  notifier = buildNotifier({ config, nc, log, logger: createLogger('notifier', {}, 'error'), settings: { schedule: [50, 100], publicUrl: 'http://errand.test' } });
  await notifier.start();
});

afterAll(async () => {
  await notifier?.stop();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  log?.close();
  await nc?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function run(to: string) {
  const task = { taskId: newTaskId(), tenant: 'mail' };
  await log.append(
    makeEvent('submitted', task, new Date(), {
      user: 'u1',
      taskType: 'demo.report',
      params: {},
      priority: 5,
      timeoutMs: 60_000,
      progressEveryMs: 1,
      deliver: [{ kind: 'email', to }],
    }),
  );
  await log.append(makeEvent('dispatched', task, new Date(), { attempt: 1, pool: 'default' }));
  await log.append(makeEvent('started', task, new Date(), { attempt: 1, workerId: 'w1' }));
  await log.append(makeEvent('progress', task, new Date(), { attempt: 1, percent: 50, etaMs: 60_000 }), { idExtra: 50 });
  await log.append(makeEvent('completed', task, new Date(), { attempt: 1, result: { summary: 'All good' } }));
  return task;
}

const deliveries = async (t: { tenant: string; taskId: string }) =>
  (await log.history(t.tenant, t.taskId)).map((s) => s.event).filter((e): e is Extract<ErrandEvent, { type: 'delivered' | 'delivery-failed' }> => e.type === 'delivered' || e.type === 'delivery-failed');

describe('email targets (SMTP)', () => {
  it('mails the final message once, with the delivery id as Message-ID, and no progress mail', async () => {
    const t = await run('ana@example.test');
    await waitFor(async () => (await deliveries(t)).length === 1, { what: 'the delivery record' });
    const [d] = await deliveries(t);
    expect(d).toMatchObject({ type: 'delivered', of: 'completed', target: { index: 0, kind: 'email' } });
    const mine = mails.filter((m) => m.raw.includes(t.taskId));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.to).toBe('ana@example.test');
    expect(mine[0]!.raw).toContain(`Message-ID: <${d!.deliveryId}@errand>`);
    expect(mine[0]!.raw).toMatch(/Subject: Your report is ready/);
    expect(mine[0]!.raw).toContain('All good');
  });

  it('gives up at once on a permanent SMTP refusal (5xx)', async () => {
    const t = await run('nobody@example.test');
    await waitFor(async () => (await deliveries(t)).length === 1, { what: 'the delivery record' });
    const [d] = await deliveries(t);
    expect(d).toMatchObject({ type: 'delivery-failed', tries: 1 });
    expect(d!.error).toMatch(/SMTP 550/);
  });
});
