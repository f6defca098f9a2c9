import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '@errand/testing';
import { System, http } from './harness.ts';
import { Receiver, newWebhookSecret, type Hit } from './receiver.ts';
import { readStream } from './streams.ts';

/*
 * Issue 4, delivery, end to end: the real services as processes, a webhook
 * receiver on 127.0.0.1 that verifies Standard Webhooks signatures.
 */

let rx: Receiver;
beforeAll(async () => {
  rx = await Receiver.start();
});
afterAll(async () => {
  await rx?.close();
});

async function submit(sys: System, body: Record<string, unknown>): Promise<string> {
  const r = await http(sys, 'POST', '/v1/tasks', body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id;
}

async function view(sys: System, id: string): Promise<any> {
  const r = await http(sys, 'GET', `/v1/tasks/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function history(sys: System, id: string): Promise<any[]> {
  const r = await http(sys, 'GET', `/v1/tasks/${id}/events`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Wait until the task's final message is recorded (`delivered` or `delivery-failed`) for each of `indexes`. */
async function finalRecorded(sys: System, id: string, indexes: number[], timeoutMs = 30_000): Promise<any[]> {
  return await waitFor(
    async () => {
      const h = await history(sys, id);
      const done = h.filter((e) => (e.type === 'delivered' || e.type === 'delivery-failed') && e.of !== 'progress');
      return indexes.every((i) => done.some((e) => e.target.index === i)) ? h : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `task ${id}'s final message to be recorded for targets ${indexes.join(',')}` },
  );
}

/** The sequence of the delivered event, from a delivery id `<taskId>-<seq>-<index>`. */
const seqOf = (deliveryId: string) => Number(/-(\d+)-\d+$/.exec(deliveryId)![1]);

/** Every message of every other stream (KV buckets, object store, work, notify), as text per stream. */
async function everyOtherStream(sys: System): Promise<Record<string, string>> {
  const jsm = await jetstreamManager(sys.nc);
  const out: Record<string, string> = {};
  for await (const name of jsm.streams.names()) {
    if (name === 'ERRAND_EVENTS') continue;
    out[`stream ${name}`] = ' ' + (await readStream(sys.nc, name)).map((m) => `${m.subject}\n${m.headers}\n${m.data}`).join('\n');
  }
  expect(Object.keys(out)).toContain('stream KV_errand_secrets');
  return out;
}

describe('delivery to webhooks, Slack, NATS and memory (ERRAND_WEBHOOK_ALLOW=127.0.0.1)', () => {
  let sys: System;
  const secrets: string[] = [];
  beforeAll(async () => {
    sys = await System.start({
      env: {
        ERRAND_WEBHOOK_ALLOW: '127.0.0.1',
        ERRAND_DELIVERY_SCHEDULE_MS: '200,400,600,800,1000',
        ERRAND_DELIVERY_TIMEOUT_MS: '1000',
        ERRAND_CONCURRENCY: '8',
      },
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('sends signed progress messages, then the final one, in order, each webhook-id once', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const url = rx.hook('progress', { secret });
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 2500, steps: 5, result: 'r1' },
      user: 'd1',
      progressEveryMs: 250,
      deliver: [{ kind: 'webhook', url, secret }],
    });
    const h = await finalRecorded(sys, id, [0]);
    const hits = rx.hitsTo(url);
    expect(hits.every((x) => x.verified), 'every signature verifies').toBe(true);
    expect(rx.duplicates(hits)).toEqual([]);
    expect([...rx.acks(hits).values()].every((n) => n === 1)).toBe(true);
    const types = hits.map((x) => x.body.type);
    expect(types.at(-1)).toBe('completed');
    expect(types.slice(0, -1).every((t) => t === 'progress')).toBe(true);
    expect(types.filter((t) => t === 'progress').length).toBeGreaterThanOrEqual(2);
    // in the log's order; progress paced by progressEveryMs, percent never going back
    const seqs = hits.map((x) => seqOf(x.id!));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const progress = hits.filter((x) => x.body.type === 'progress').map((x) => x.body);
    for (let i = 1; i < progress.length; i++) {
      expect(Date.parse(progress[i].at) - Date.parse(progress[i - 1].at)).toBeGreaterThanOrEqual(250);
      expect(progress[i].percent).toBeGreaterThanOrEqual(progress[i - 1].percent);
    }
    for (const x of hits) {
      expect(x.id).toMatch(new RegExp(`^${id}-\\d+-0$`));
      expect(x.body).toMatchObject({ taskId: id, tenant: 'default', task: { id, type: 'demo.sleep', user: 'd1' } });
      expect(new Date(x.body.at).toISOString()).toBe(x.body.at);
      expect(typeof x.body.text).toBe('string');
      expect(x.body.text.length).toBeGreaterThan(0);
    }
    expect(progress[0].text).toMatch(/%/);
    const final = hits.at(-1)!.body;
    expect(final.task.state).toBe('completed');
    expect(final.result).toEqual({ steps: 5, resumedFrom: 0, result: 'r1' });
    // what the log recorded: one delivered per message received, first try each
    const delivered = h.filter((e) => e.type === 'delivered');
    expect(delivered.map((e) => e.deliveryId).sort()).toEqual(hits.map((x) => x.id).sort());
    expect(delivered.every((e) => e.tries === 1 && e.target.kind === 'webhook' && e.target.index === 0)).toBe(true);
    const v = await view(sys, id);
    expect(v.deliveries).toEqual([expect.objectContaining({ index: 0, kind: 'webhook', state: 'delivered' })]);
  });

  it('paces progress messages by progressEveryMs, and the final message still goes', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const url = rx.hook('paced', { secret });
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 2500, steps: 10 },
      user: 'd1b',
      progressEveryMs: 1000,
      deliver: [{ kind: 'webhook', url, secret }],
    });
    const h = await finalRecorded(sys, id, [0]);
    const hits = rx.hitsTo(url);
    const progress = hits.filter((x) => x.body.type === 'progress').map((x) => x.body);
    expect(h.filter((e) => e.type === 'progress').length).toBeGreaterThanOrEqual(8);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < progress.length; i++) expect(Date.parse(progress[i].at) - Date.parse(progress[i - 1].at)).toBeGreaterThanOrEqual(1_000);
    expect(hits.at(-1)!.body.type).toBe('completed');
    expect(rx.duplicates(hits)).toEqual([]);
  });

  it('retries after 500, 429 with Retry-After: 1 and a timeout, then delivers, with the tries counted', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const url = rx.hook('flaky', {
      secret,
      script: (nth) =>
        nth === 1 ? { status: 500 } : nth === 2 ? { status: 429, retryAfter: '1' } : nth === 3 ? { status: 200, delayMs: 2_500 } : undefined,
    });
    const id = await submit(sys, { type: 'demo.noop', params: { result: 'r2' }, user: 'd2', deliver: [{ kind: 'webhook', url, secret }] });
    const h = await finalRecorded(sys, id, [0]);
    const hits = rx.hitsTo(url);
    expect(hits.map((x) => x.nth)).toEqual([1, 2, 3, 4]);
    expect(new Set(hits.map((x) => x.id)).size).toBe(1);
    expect(hits.every((x) => x.verified && x.body.type === 'completed')).toBe(true);
    const gap = (i: number) => hits[i]!.at - hits[i - 1]!.at;
    expect(gap(1)).toBeLessThan(1_000); // the first retry: 200 ms ± 20 %
    expect(gap(2)).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect(gap(3)).toBeGreaterThanOrEqual(1_000 + 480); // the 1 s timeout, then 600 ms ± 20 %
    const completed = h.find((e) => e.type === 'completed');
    const delivered = h.filter((e) => e.type === 'delivered');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ of: 'completed', tries: 4, deliveryId: hits[0]!.id, target: { index: 0, kind: 'webhook' } });
    expect(h.some((e) => e.type === 'delivery-failed')).toBe(false);
    // within the schedule: 200 + 1000 (Retry-After) + 1000 (timeout) + 600, jitter and slack
    expect(Date.parse(delivered[0].at) - Date.parse(completed.at)).toBeLessThan(6_000);
    const v = await view(sys, id);
    expect(v.deliveries[0]).toMatchObject({ state: 'delivered', tries: 4 });
  });

  it('410 Gone: records delivery-failed and sends nothing more to that target', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    let n = 0;
    const gone = rx.hook('gone', { secret, script: () => (++n === 1 ? { status: 410 } : undefined) });
    const other = rx.hook('other', { secret });
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 2000, steps: 4 },
      user: 'd3',
      progressEveryMs: 250,
      deliver: [
        { kind: 'webhook', url: gone, secret },
        { kind: 'webhook', url: other, secret },
      ],
    });
    const h = await finalRecorded(sys, id, [1]);
    expect(rx.hitsTo(gone)).toHaveLength(1);
    expect(rx.hitsTo(gone)[0]!.body.type).toBe('progress');
    const otherHits = rx.hitsTo(other);
    expect(otherHits.length).toBeGreaterThanOrEqual(2);
    expect(otherHits.at(-1)!.body.type).toBe('completed');
    const failed = h.filter((e) => e.type === 'delivery-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ target: { index: 0, kind: 'webhook' }, tries: 1, of: 'progress' });
    expect(failed[0].error).toMatch(/410/);
    expect(h.filter((e) => e.type === 'delivered' && e.target.index === 0)).toHaveLength(0);
    const v = await view(sys, id);
    expect(v.deliveries[0]).toMatchObject({ state: 'failed', tries: 1 });
    expect(v.deliveries[0].lastError).toMatch(/410/);
    expect(v.deliveries[1]).toMatchObject({ state: 'delivered' });
  });

  it('gives up after the schedule (delivery-failed, every try counted) and never follows a redirect', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const down = rx.hook('down', { secret, script: () => ({ status: 500 }) });
    const redirected = rx.hook('redirected', { secret });
    const mover = rx.hook('mover', { secret, script: () => ({ status: 307, location: redirected }) });
    const id = await submit(sys, {
      type: 'demo.noop',
      params: {},
      user: 'd4',
      deliver: [
        { kind: 'webhook', url: down, secret },
        { kind: 'webhook', url: mover, secret },
      ],
    });
    const h = await finalRecorded(sys, id, [0, 1]);
    const failed = h.filter((e) => e.type === 'delivery-failed');
    expect(failed.find((e) => e.target.index === 0)).toMatchObject({ of: 'completed', tries: 6, error: 'HTTP 500' });
    expect(failed.find((e) => e.target.index === 1)).toMatchObject({ of: 'completed', tries: 1 });
    expect(failed.find((e) => e.target.index === 1).error).toMatch(/redirect/);
    const hits = rx.hitsTo(down);
    expect(hits.map((x) => x.nth)).toEqual([1, 2, 3, 4, 5, 6]);
    // backoff grows along the schedule 200, 400, 600, 800, 1000 (± 20 %)
    const gaps = hits.slice(1).map((x, i) => x.at - hits[i]!.at);
    expect(gaps[4]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[4]!).toBeGreaterThanOrEqual(750);
    expect(rx.hitsTo(mover)).toHaveLength(1);
    expect(rx.hitsTo(redirected)).toHaveLength(0);
    const v = await view(sys, id);
    expect(v.deliveries.map((d: any) => [d.state, d.tries])).toEqual([
      ['failed', 6],
      ['failed', 1],
    ]);
  });

  /** Milliseconds from the task's `completed` event to the `delivered` record of its final message to target `index`. */
  const finalLag = (h: any[], index: number) =>
    Date.parse(h.find((e) => e.type === 'delivered' && e.of === 'completed' && e.target.index === index).at) -
    Date.parse(h.find((e) => e.type === 'completed').at);

  it('a target that keeps failing does not hold up the deliveries of other tasks', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const down = rx.hook('down-long', { secret, script: () => ({ status: 500 }) });
    const fine = rx.hook('fine-other-task', { secret });
    const id = await submit(sys, { type: 'demo.noop', params: {}, user: 'd6', deliver: [{ kind: 'webhook', url: down, secret }] });
    await waitFor(() => rx.hitsTo(down).length > 0, { timeoutMs: 10_000, what: 'a first try to the failing target' });
    const other = await submit(sys, { type: 'demo.noop', params: {}, user: 'd6b', deliver: [{ kind: 'webhook', url: fine, secret }] });
    expect(finalLag(await finalRecorded(sys, other, [0]), 0)).toBeLessThan(1_000);
    expect((await view(sys, id)).deliveries[0].state).toBe('pending'); // still retrying meanwhile
  });

  // KNOWN ISSUE (reported, not fixed): the notifier keeps one queue per task, not per (task, target), so a
  // progress message retrying at a failing target holds back every later message of that task to every
  // target; with the default schedule (1 s … 10 min) a dead webhook delays the Slack final message by ~13 min.
  it('a target that keeps failing does not hold up the final message to the other targets of its task', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const down = rx.hook('down-progress', { secret, script: () => ({ status: 500 }) });
    const fine = rx.hook('fine', { secret });
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 1200, steps: 3 },
      user: 'd6',
      progressEveryMs: 250,
      deliver: [
        { kind: 'webhook', url: down, secret },
        { kind: 'webhook', url: fine, secret },
      ],
    });
    const h = await finalRecorded(sys, id, [1]);
    console.log(`failing target: the healthy target's final message went ${finalLag(h, 1)} ms after the completed event`);
    expect(finalLag(h, 1), 'the healthy target waited for the failing one').toBeLessThan(1_000);
  });

  it('delivers the final message of a cancelled task, and again the final message after a retry', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const url = rx.hook('cancel-retry', { secret });
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 3000, steps: 6, result: 'r5' },
      user: 'd5',
      progressEveryMs: 250,
      deliver: [{ kind: 'webhook', url, secret }],
    });
    await waitFor(() => rx.hitsTo(url).some((x) => x.body.type === 'progress'), { timeoutMs: 15_000, what: 'a first progress message' });
    expect((await http(sys, 'POST', `/v1/tasks/${id}/cancel`, { reason: 'changed my mind' })).status).toBe(202);
    await waitFor(() => rx.hitsTo(url).some((x) => x.body.type === 'cancelled'), { timeoutMs: 15_000, what: 'the cancelled message' });
    const cancelled = rx.hitsTo(url).find((x) => x.body.type === 'cancelled')!.body;
    expect(cancelled.task.state).toBe('cancelled');
    expect(cancelled.text).toMatch(/cancel/i);
    await finalRecorded(sys, id, [0]);
    expect((await http(sys, 'POST', `/v1/tasks/${id}/retry`, {})).status).toBe(202);
    await waitFor(
      async () => (await history(sys, id)).some((e) => e.type === 'delivered' && e.of === 'completed'),
      { timeoutMs: 20_000, what: 'the completed message after the retry to be recorded' },
    );
    const hits = rx.hitsTo(url);
    expect(hits.every((x) => x.verified)).toBe(true);
    expect(rx.duplicates(hits)).toEqual([]);
    const types = hits.map((x) => x.body.type);
    expect(types.filter((t) => t === 'cancelled')).toHaveLength(1);
    expect(types.at(-1)).toBe('completed');
    expect(types.indexOf('cancelled')).toBeLessThan(types.indexOf('completed'));
    expect(hits.at(-1)!.body.result).toMatchObject({ steps: 6, result: 'r5' });
    expect(hits.at(-1)!.body.result.resumedFrom).toBeGreaterThan(0);
    expect(hits.at(-1)!.body.task.attempt).toBe(2);
  });

  it('sends one final message for a task that fails after its retries, none for the attempts that will be retried', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const url = rx.hook('fails', { secret });
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 100, steps: 2, failAtStep: 1 },
      user: 'd9',
      progressEveryMs: 250,
      deliver: [{ kind: 'webhook', url, secret }],
    });
    const h = await finalRecorded(sys, id, [0], 30_000);
    expect(h.filter((e) => e.type === 'failed').length).toBeGreaterThanOrEqual(2);
    const finals = rx.hitsTo(url).filter((x) => x.body.type !== 'progress');
    expect(finals).toHaveLength(1);
    expect(finals[0]!.body).toMatchObject({ type: 'failed', willRetry: false, task: { state: 'failed' } });
    expect(finals[0]!.body.text).toMatch(/fail/i);
    expect(rx.duplicates(rx.hitsTo(url))).toEqual([]);
  });

  it('a nats target gets the messages on its subject, kept in ERRAND_NOTIFY; a memory target is listed and returned', async () => {
    const live = 'errand.notify.default.agent-live';
    const offline = 'errand.notify.default.agent-offline';
    const got: any[] = [];
    const sub = sys.nc.subscribe(live, { callback: (_e, m) => void got.push(JSON.parse(m.string())) });
    await sys.nc.flush();
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 800, steps: 2, result: 'r8' },
      user: 'mem-user',
      progressEveryMs: 250,
      deliver: [
        { kind: 'nats', subject: live },
        { kind: 'nats', subject: offline, name: 'offline agent' },
        { kind: 'memory' },
      ],
      metadata: { conversation: 'conv-8' },
    });
    await finalRecorded(sys, id, [0, 1, 2]);
    await waitFor(() => got.some((m) => m.type === 'completed'), { timeoutMs: 5_000, what: 'the final message on the live subject' });
    sub.unsubscribe();
    expect(got.at(-1)).toMatchObject({ type: 'completed', taskId: id, tenant: 'default', task: { id, state: 'completed' } });
    expect(got.at(-1).text.length).toBeGreaterThan(0);
    // the agent that was offline reads what it missed from the stream
    const kept = (await readStream(sys.nc, 'ERRAND_NOTIFY', offline)).map((m) => JSON.parse(m.data));
    expect(kept.filter((m) => m.taskId === id).map((m) => m.type).at(-1)).toBe('completed');
    expect(kept.find((m) => m.type === 'completed')).toMatchObject({ result: { steps: 2, resumedFrom: 0, result: 'r8' }, task: { id } });
    const v = await view(sys, id);
    expect(v.deliveries.map((d: any) => d.state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(v.deliveries[1].name).toBe('offline agent');

    const list = await http(sys, 'GET', '/v1/memory?user=mem-user');
    expect(list.status).toBe(200);
    const item = list.body.items.find((i: any) => i.taskId === id);
    expect(item).toBeTruthy();
    expect(item.value).toMatchObject({ taskId: id, type: 'demo.sleep', user: 'mem-user', state: 'completed', result: { result: 'r8' } });
    const one = await http(sys, 'GET', `/v1/memory/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ taskId: id, value: { taskId: id, state: 'completed', metadata: { conversation: 'conv-8' } } });
    expect(typeof one.body.value.text).toBe('string');
    expect((await http(sys, 'GET', '/v1/memory?user=nobody')).body.items).toEqual([]);
    const noMemory = await submit(sys, { type: 'demo.noop', params: {}, user: 'mem-user' });
    await waitFor(async () => (await view(sys, noMemory)).state === 'completed', { timeoutMs: 10_000, what: 'a task without targets to complete' });
    expect((await http(sys, 'GET', `/v1/memory/${noMemory}`)).status).toBe(404);
  });

  it('never shows a secret: not in the API, the SSE stream, the event log or any log line', async () => {
    const secret = newWebhookSecret();
    secrets.push(secret);
    const slackToken = randomBytes(18).toString('hex');
    const slackPath = `/services/T${randomBytes(4).toString('hex')}/B${randomBytes(4).toString('hex')}/${slackToken}`;
    const slackUrl = rx.hook(slackPath, { script: (nth) => (nth === 1 ? { status: 500 } : undefined) });
    const discordToken = randomBytes(24).toString('base64url');
    const discordPath = `/api/webhooks/${Date.now()}/${discordToken}`;
    const discordUrl = rx.hook(discordPath);
    const hook = rx.hook('secrets', { secret, script: (nth) => (nth === 1 ? { status: 503 } : undefined) });
    const id = await submit(sys, {
      type: 'demo.sleep',
      params: { durationMs: 600, steps: 2, result: 'r7' },
      user: 'd7',
      progressEveryMs: 250,
      deliver: [
        { kind: 'webhook', url: hook, secret, name: 'main' },
        { kind: 'slack', url: slackUrl, name: 'chat' },
        { kind: 'discord', url: discordUrl },
      ],
    });
    await finalRecorded(sys, id, [0, 1, 2]);
    expect(sys.logs()).toMatch(/will retry/); // the failure paths were taken (and logged)
    const discord = rx.hitsTo(discordUrl);
    expect(discord.length).toBeGreaterThanOrEqual(1);
    expect(typeof discord.at(-1)!.body.content).toBe('string');
    const slack = rx.hitsTo(slackUrl);
    expect(slack.length).toBeGreaterThanOrEqual(1);
    expect(typeof slack.at(-1)!.body.text).toBe('string');
    expect(rx.hitsTo(hook).at(-1)!.body.type).toBe('completed');

    const sse = await fetch(`${sys.url}/v1/tasks/${id}/events`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(10_000) });
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    const sseText = await sse.text();
    expect(sseText).toMatch(/event: completed/);
    const api = async (path: string) => JSON.stringify((await http(sys, 'GET', path)).body);
    const natsStatus = (await sys.nc.request('errand.api.default.status', JSON.stringify({ id }), { timeout: 5_000 })).string();
    const natsHistory = (await sys.nc.request('errand.api.default.history', JSON.stringify({ id }), { timeout: 5_000 })).string();
    const events = await readStream(sys.nc, 'ERRAND_EVENTS');
    const submitted = events.map((m) => JSON.parse(m.data)).find((e) => e.type === 'submitted' && e.taskId === id);
    expect(submitted.deliver[0]).toMatchObject({ kind: 'webhook', secretHint: secret.slice(-4) });
    expect(submitted.deliver[0].secretRef).toBeTruthy();
    expect(submitted.deliver[1]).toMatchObject({ kind: 'slack', host: `127.0.0.1:${rx.port}` });
    expect(submitted.deliver[1].url).toBeUndefined();
    const places: Record<string, string> = {
      'task view': await api(`/v1/tasks/${id}`),
      list: await api('/v1/tasks?limit=100'),
      'list of the user': await api('/v1/tasks?user=d7'),
      'events JSON': await api(`/v1/tasks/${id}/events`),
      result: await api(`/v1/tasks/${id}/result`),
      'SSE stream': sseText,
      'NATS status': natsStatus,
      'NATS history': natsHistory,
      'ERRAND_EVENTS stream': events.map((m) => `${m.subject}\n${m.headers}\n${m.data}`).join('\n'),
      ...(await everyOtherStream(sys)),
      'webhook, Slack and Discord bodies': rx.hits.map((x) => x.raw).join('\n'),
      'service logs': sys.logs(),
    };
    const needles: Record<string, string> = {
      'the Slack URL path': slackPath,
      'the Slack token': slackToken,
      'the Discord URL path': discordPath,
      'the Discord token': discordToken,
    };
    for (const [i, s] of secrets.entries()) {
      needles[`webhook secret ${i}`] = s;
      needles[`webhook secret ${i} (base64 part)`] = s.slice('whsec_'.length);
    }
    for (const [where, text] of Object.entries(places)) {
      expect(text.length, where).toBeGreaterThan(0);
      for (const [what, needle] of Object.entries(needles)) expect(text.includes(needle), `${what} in ${where}`).toBe(false);
    }
  });
});

describe('the SSRF guard, without an allow-list', () => {
  let sys: System;
  beforeAll(async () => {
    // two notifiers started at the same moment: they race to create the consumer and the lease
    sys = await System.start({
      env: { ERRAND_DELIVERY_SCHEDULE_MS: '200,400', ERRAND_CONCURRENCY: '20', ERRAND_MAX_PENDING_PER_USER: '1000' },
      services: ['scheduler', 'worker', 'notifier', 'notifier', 'intake'],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('refuses internal, metadata, loopback and non-http URLs with 400 invalid; nothing reaches the receiver', async () => {
    const before = rx.hits.length;
    const p = rx.port;
    const urls = [
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'file:///etc/passwd',
      'gopher://x',
      `http://127.0.0.1:${p}/hook/ssrf`,
      `http://localhost:${p}/hook/ssrf`,
      `http://localhost.:${p}/hook/ssrf`,
      `http://[::1]:${p}/hook/ssrf`,
      `http://[::ffff:127.0.0.1]:${p}/hook/ssrf`,
      `http://127.1:${p}/hook/ssrf`,
      `http://2130706433:${p}/hook/ssrf`,
      `http://0.0.0.0:${p}/hook/ssrf`,
      `http://user:pw@127.0.0.1:${p}/hook/ssrf`,
      `http://0x7f.1:${p}/hook/ssrf`,
      `http://[::]:${p}/hook/ssrf`,
      'http://192.168.1.1/',
      'http://172.16.0.1/',
      'http://100.64.0.1/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://intranet/',
      'ftp://example.com/',
      'javascript:alert(1)',
      'not a url',
    ];
    const secret = newWebhookSecret();
    for (const url of urls) {
      for (const target of [{ kind: 'webhook', url, secret }, { kind: 'slack', url }, { kind: 'discord', url }]) {
        const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.noop', params: {}, user: 'ssrf', deliver: [{ kind: 'memory' }, target] });
        expect(r.status, `${target.kind} ${url}`).toBe(400);
        expect(r.body.error.code).toBe('invalid');
        expect(r.body.error.message).toMatch(/deliver\[1\]/);
      }
    }
    const overNats = await sys.nc.request(
      'errand.api.default.submit',
      JSON.stringify({ type: 'demo.noop', params: {}, user: 'ssrf', deliver: [{ kind: 'webhook', url: `http://127.0.0.1:${p}/hook/ssrf`, secret }] }),
      { timeout: 5_000 },
    );
    expect(JSON.parse(overNats.string()).error.code).toBe('invalid');
    // a task that does go through, delivered after everything above
    const ok = await submit(sys, { type: 'demo.noop', params: {}, user: 'ssrf-ok', deliver: [{ kind: 'memory' }] });
    await finalRecorded(sys, ok, [0]);
    expect((await http(sys, 'GET', '/v1/tasks?user=ssrf')).body.items).toEqual([]);
    expect(rx.hits.slice(before)).toEqual([]);
  });

  it('two notifiers started together: one delivers, every NATS message is published once (50 tasks)', async () => {
    const subject = 'errand.notify.default.twins';
    const seen = new Map<string, number>();
    const sub = sys.nc.subscribe(subject, {
      callback: (_e, m) => {
        const k = `${m.headers?.get('Nats-Msg-Id')}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      },
    });
    await sys.nc.flush();
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => submit(sys, { type: 'demo.noop', params: { result: i }, user: `t${i % 10}`, deliver: [{ kind: 'nats', subject }] })),
    );
    await waitFor(() => seen.size >= 50, { timeoutMs: 30_000, what: '50 messages on the subject' });
    await sys.nc.flush();
    sub.unsubscribe();
    expect([...seen.values()].every((n) => n === 1), JSON.stringify([...seen].filter(([, n]) => n > 1))).toBe(true);
    for (const id of ids) expect([...seen.keys()].filter((k) => new RegExp(`^${id}-\\d+-0$`).test(k)), id).toHaveLength(1);
    expect(seen.size).toBe(50);
    const notifiers = sys.procs.filter((p) => p.name === 'notifier');
    const dead = notifiers.filter((p) => !p.alive);
    expect(dead.map((p) => `${p.label} exited ${p.child?.exitCode ?? p.child?.signalCode}:\n${p.output.slice(-3000)}`)).toEqual([]);
    expect(notifiers.filter((p) => /"msg":"delivering"/.test(p.output))).toHaveLength(1);
  });
});

describe('notifier crashes and replicas (200 and 100 tasks with webhooks)', () => {
  let sys: System;
  const secret = newWebhookSecret();
  beforeAll(async () => {
    sys = await System.start({
      env: {
        ERRAND_WEBHOOK_ALLOW: '127.0.0.1',
        ERRAND_DELIVERY_SCHEDULE_MS: '200,400,800,1600,3200',
        ERRAND_NOTIFIER_ACK_WAIT_MS: '3000',
        ERRAND_CONCURRENCY: '50',
        ERRAND_MAX_PENDING_PER_USER: '1000',
      },
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  /** Submit `n` tasks (demo.noop, or a short demo.sleep with progress) with one webhook target each, 25 at a time. */
  async function burst(n: number, url: string, ids: string[], withProgress = false): Promise<void> {
    const task = (i: number) =>
      withProgress
        ? { type: 'demo.sleep', params: { durationMs: 300, steps: 2, result: i }, progressEveryMs: 250 }
        : { type: 'demo.noop', params: { result: i } };
    for (let b = 0; b < n; b += 25) {
      const batch = Array.from({ length: Math.min(25, n - b) }, (_, i) =>
        submit(sys, { ...task(b + i), user: `b${(b + i) % 20}`, deliver: [{ kind: 'webhook', url, secret }] }),
      );
      ids.push(...(await Promise.all(batch)));
    }
  }

  /** Task ids whose final message the receiver acknowledged. */
  const finals = (hits: readonly Hit[]) => new Set(hits.filter((x) => x.body?.type === 'completed' && x.answer.status === 200).map((x) => x.body.taskId as string));

  async function deliveredRecords(): Promise<any[]> {
    return (await readStream(sys.nc, 'ERRAND_EVENTS')).map((m) => JSON.parse(m.data)).filter((e) => e.type === 'delivered');
  }

  it('SIGKILL in the middle of 200 completions: every final message arrives; duplicates only of messages in flight', async () => {
    // a receiver that takes 20-100 ms to answer: some requests are in flight at the kill
    const url = rx.hook('burst', { secret, script: () => ({ status: 200, delayMs: 20 + Math.floor(Math.random() * 80) }) });
    const ids: string[] = [];
    const submitting = burst(200, url, ids, true);
    await waitFor(() => finals(rx.hitsTo(url)).size >= 40, { timeoutMs: 60_000, what: '40 final messages before the kill' });
    await sys.get('notifier').stop('SIGKILL');
    const atKill = finals(rx.hitsTo(url)).size;
    // nothing records from here until the new notifier runs: what was received and not recorded is in flight
    const recorded = new Set((await deliveredRecords()).map((e) => e.deliveryId));
    const addedAt = Date.now();
    sys.add('notifier');
    await submitting;
    expect(ids).toHaveLength(200);
    await waitFor(() => finals(rx.hitsTo(url)).size === 200, { timeoutMs: 60_000, what: 'the final message of all 200 tasks' });
    const hits = rx.hitsTo(url);
    expect(hits.every((x) => x.verified)).toBe(true);
    expect(finals(hits)).toEqual(new Set(ids));
    const inFlight = new Set(hits.filter((x) => x.at < addedAt && !recorded.has(x.id!)).map((x) => x.id!));
    const dups = rx.duplicates(hits);
    console.log(`notifier SIGKILL: ${atKill}/200 final messages acknowledged at the kill, ${inFlight.size} received but not recorded, ${dups.length} duplicates on the wire`);
    for (const d of dups) expect(inFlight.has(d), `duplicate ${d} was not in flight at the kill`).toBe(true);
    expect(dups.length).toBeLessThanOrEqual(inFlight.size);
    // no progress message on the wire after the task's final message, duplicates included
    for (const id of ids) {
      const mine = hits.filter((x) => x.body.taskId === id);
      const final = mine.findIndex((x) => x.body.type === 'completed');
      expect(mine.slice(final + 1).filter((x) => x.body.type !== 'completed'), id).toEqual([]);
    }
    // and each is recorded delivered, once
    const records = await waitFor(
      async () => {
        const all = (await deliveredRecords()).filter((e) => ids.includes(e.taskId) && e.of === 'completed');
        return all.length >= 200 ? all : undefined;
      },
      { timeoutMs: 20_000, what: '200 delivered records' },
    );
    expect(records.map((e) => e.taskId).sort()).toEqual([...ids].sort());
  });

  it('two notifiers at once: no duplicates over 100 tasks', async () => {
    const second = sys.add('notifier');
    await second.waitForLog(/notifier ready/);
    expect(sys.procs.filter((p) => p.name === 'notifier' && p.alive)).toHaveLength(2);
    const url = rx.hook('pair', { secret });
    const ids: string[] = [];
    await burst(100, url, ids);
    await waitFor(() => finals(rx.hitsTo(url)).size === 100, { timeoutMs: 60_000, what: 'the final message of all 100 tasks' });
    const hits = rx.hitsTo(url);
    expect(rx.duplicates(hits)).toEqual([]);
    expect(hits).toHaveLength(100);
    expect(finals(hits)).toEqual(new Set(ids));
    const records = await waitFor(
      async () => {
        const all = (await deliveredRecords()).filter((e) => ids.includes(e.taskId));
        return all.length >= 100 ? all : undefined;
      },
      { timeoutMs: 20_000, what: '100 delivered records' },
    );
    expect(records).toHaveLength(100);
  });

  it('SIGTERM of the active notifier with a standby: the standby takes over, no duplicates over 100 tasks', async () => {
    const alive = sys.procs.filter((p) => p.name === 'notifier' && p.alive);
    const active = alive.filter((p) => /"msg":"delivering"/.test(p.output) && !/lost the notifier lease/.test(p.output));
    expect(active, alive.map((p) => p.label).join(',')).toHaveLength(1);
    const standby = alive.find((p) => p !== active[0])!;
    const url = rx.hook('handover', { secret, script: () => ({ status: 200, delayMs: 20 + Math.floor(Math.random() * 80) }) });
    const ids: string[] = [];
    const submitting = burst(100, url, ids);
    await waitFor(() => finals(rx.hitsTo(url)).size >= 20, { timeoutMs: 60_000, what: '20 final messages before the stop' });
    await active[0]!.stop('SIGTERM');
    const atStop = finals(rx.hitsTo(url)).size;
    await submitting;
    await standby.waitForLog(/took the lease/, 20_000);
    await waitFor(() => finals(rx.hitsTo(url)).size === 100, { timeoutMs: 60_000, what: 'the final message of all 100 tasks' });
    const hits = rx.hitsTo(url);
    console.log(`notifier SIGTERM: ${atStop}/100 final messages acknowledged at the stop, ${rx.duplicates(hits).length} duplicates on the wire`);
    expect(rx.duplicates(hits)).toEqual([]);
    expect(finals(hits)).toEqual(new Set(ids));
  });
});
