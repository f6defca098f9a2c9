import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@errand/testing';
import { System, http } from './harness.ts';

/**
 * The seed's own scenario: a report of a minute, queued, with progress on
 * schedule and its result delivered to the agent's chat; a second one cancelled.
 */
describe('a one-minute report, end to end', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await System.start({ env: { ERRAND_DEMO_REPORT_MS_PER_DAY: '2000' } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('queues, reports progress on schedule, delivers its result, and a second report can be cancelled', async () => {
    const chat: { at: number; body: any }[] = [];
    const sub = sys.nc.subscribe('errand.notify.default.conv-1', {
      callback: (_e, m) => {
        chat.push({ at: Date.now(), body: JSON.parse(new TextDecoder().decode(m.data)) });
      },
    });
    const deliver = [{ kind: 'nats', subject: 'errand.notify.default.conv-1' }, { kind: 'memory' }];
    const first = await http(sys, 'POST', '/v1/tasks', { type: 'demo.report', params: { days: 30 }, user: 'ana', progressEveryMs: 10_000, deliver });
    expect(first.status).toBe(202);
    expect(first.body.state).toBe('queued');
    const second = await http(sys, 'POST', '/v1/tasks', { type: 'demo.report', params: { days: 30 }, user: 'ana', deliver });
    await waitFor(async () => (await http(sys, 'GET', `/v1/tasks/${second.body.id}`)).body.state === 'running', { what: 'the second report to run' });
    const cancel = await http(sys, 'POST', `/v1/tasks/${second.body.id}/cancel`, { reason: 'changed my mind' });
    expect(cancel.status).toBe(202);
    await waitFor(async () => (await http(sys, 'GET', `/v1/tasks/${second.body.id}`)).body.state === 'cancelled', { timeoutMs: 5_000, what: 'the cancel' });

    const view = await waitFor(
      async () => {
        const r = await http(sys, 'GET', `/v1/tasks/${first.body.id}`);
        return r.body.state === 'completed' ? r.body : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'the report to complete' },
    );
    expect(view.runMs).toBeGreaterThanOrEqual(59_000);
    expect(view.runMs).toBeLessThan(75_000);
    expect(view.waitMs).toBeGreaterThanOrEqual(0);
    expect(view.waitMs).toBeLessThan(2_000);
    expect(view.result).toBeTruthy();

    // the history: each progress step with its time, about 2 s apart
    const events = (await http(sys, 'GET', `/v1/tasks/${first.body.id}/events`)).body as any[];
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(25);
    const gaps = progress.slice(1).map((p, i) => Date.parse(p.at) - Date.parse(progress[i].at));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(250);
    const mid = progress.find((p) => p.percent >= 40 && p.etaMs !== undefined);
    expect(mid.etaMs).toBeGreaterThan(20_000);
    expect(mid.etaMs).toBeLessThan(50_000);

    // the chat: progress at most one per 10 s, readable, then the result, last
    await waitFor(() => chat.some((c) => c.body.type === 'completed' && c.body.taskId === first.body.id), { timeoutMs: 15_000, what: 'the result in the chat' });
    const mine = chat.filter((c) => c.body.taskId === first.body.id);
    const chatProgress = mine.filter((c) => c.body.type === 'progress');
    expect(chatProgress.length).toBeGreaterThanOrEqual(4);
    expect(chatProgress.length).toBeLessThanOrEqual(8);
    const sentAt = chatProgress.map((c) => Date.parse(c.body.at));
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(9_900);
    expect(chatProgress[1]!.body.text).toMatch(/\d+% complete/);
    expect(mine[mine.length - 1]!.body.type).toBe('completed');
    expect(chat.some((c) => c.body.taskId === second.body.id && c.body.type === 'cancelled')).toBe(true);
    sub.unsubscribe();

    const memory = await http(sys, 'GET', `/v1/memory/${first.body.id}`);
    expect(memory.status).toBe(200);
  });
});
