import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@errand/testing';
import { EventLog, type StoredEvent } from '@errand/nats';
import { isTerminalEvent } from '@errand/contracts';
import { System, http, waitState, type ServiceProcess } from './harness.ts';

const submit = async (sys: System, body: Record<string, unknown>) => {
  const r = await http(sys, 'POST', '/v1/tasks', { user: 'c1', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id as string;
};

/** The invariants every task must keep, whatever was killed: one terminal event, nothing from a stopped attempt after it. */
async function checkInvariants(log: EventLog, id: string): Promise<StoredEvent[]> {
  const h = await log.history('default', id);
  const terminal = h.filter((e) => isTerminalEvent(e.event));
  expect(terminal.length, `${id}: terminal events ${terminal.map((e) => e.event.type)}`).toBeGreaterThanOrEqual(1);
  const first = terminal[0]!;
  const after = h.filter((e) => e.seq > first.seq);
  // a handler that honours its signal writes nothing after the terminal event (deliveries may follow)
  const written = after.filter((e) => !['delivered', 'delivery-failed', 'retry-requested'].includes(e.event.type));
  expect(written.map((e) => e.event.type), `${id}: events after ${first.event.type}`).toEqual([]);
  return h;
}

const workerOf = (sys: System, h: StoredEvent[]): ServiceProcess => {
  const started = [...h].reverse().find((e) => e.event.type === 'started')!;
  const wid = (started.event as { workerId: string }).workerId;
  const p = sys.procs.find((x) => x.name === 'worker' && x.child && wid.includes(`-${x.child.pid}-`));
  if (!p) throw new Error(`no worker process for ${wid}`);
  return p;
};

describe('cancel and timeout', () => {
  let sys: System;
  let log: EventLog;
  beforeAll(async () => {
    sys = await System.start({ env: { ERRAND_CONCURRENCY: '1', ERRAND_CANCEL_GRACE_MS: '2000' } });
    log = new EventLog(sys.nc);
  });
  afterAll(async () => {
    log?.close();
    await sys?.stop();
  });

  it('cancels a running task promptly with its partial result, frees the slot, and cancels a queued one before it starts', async () => {
    const running = await submit(sys, { type: 'demo.sleep', params: { durationMs: 20_000, steps: 20 } });
    const queued = await submit(sys, { type: 'demo.sleep', params: { durationMs: 100, steps: 1 } });
    const next = await submit(sys, { type: 'demo.sleep', params: { durationMs: 100, steps: 1 } });
    await waitFor(async () => (await log.history('default', running)).some((e) => e.event.type === 'checkpoint'), { what: 'a checkpoint' });
    expect((await waitState(sys, queued, ['queued'])).state).toBe('queued');
    const q = await http(sys, 'POST', `/v1/tasks/${queued}/cancel`, { reason: 'not needed' });
    expect(q.status).toBe(202);
    await waitState(sys, queued, ['cancelled']);
    const t0 = Date.now();
    const c = await http(sys, 'POST', `/v1/tasks/${running}/cancel`, {});
    expect(c.status).toBe(202);
    const view = await waitState(sys, running, ['cancelled']);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(view.partialResult).toBeDefined();
    const result = await http(sys, 'GET', `/v1/tasks/${running}/result`);
    expect(result.status).toBe(200);
    expect(result.body.partial).toBe(true);
    await waitState(sys, next, ['completed']);
    const terminal = await http(sys, 'POST', `/v1/tasks/${running}/cancel`, {});
    expect(terminal.status).toBe(409);
    const h = await checkInvariants(log, running);
    expect(h.filter((e) => e.event.type === 'cancel-requested')).toHaveLength(1);
    const hq = await checkInvariants(log, queued);
    expect(hq.map((e) => e.event.type)).not.toContain('started');
  });

  it('does not run a dispatched task cancelled before its worker took it; a repeated cancel changes nothing', async () => {
    const worker = sys.get('worker');
    const scheduler = sys.get('scheduler');
    worker.signal('SIGSTOP');
    try {
      const id = await submit(sys, { type: 'demo.sleep', params: { durationMs: 100, steps: 1 } });
      await waitState(sys, id, ['dispatched']);
      scheduler.signal('SIGSTOP');
      expect((await http(sys, 'POST', `/v1/tasks/${id}/cancel`, {})).status).toBe(202);
      const again = await http(sys, 'POST', `/v1/tasks/${id}/cancel`, { reason: 'twice' });
      expect(again.status).toBe(202);
      scheduler.signal('SIGCONT');
      await waitState(sys, id, ['cancelled']);
      expect((await log.history('default', id)).filter((e) => e.event.type === 'cancel-requested')).toHaveLength(1);
      worker.signal('SIGCONT');
      const probe = await submit(sys, { type: 'demo.sleep', params: { durationMs: 50, steps: 1 } });
      await waitState(sys, probe, ['completed']);
      const h = await checkInvariants(log, id);
      expect(h.map((e) => e.event.type)).not.toContain('started');
    } finally {
      scheduler.signal('SIGCONT');
      worker.signal('SIGCONT');
    }
  });

  it('times out a task that runs past its limit and says why', async () => {
    const id = await submit(sys, { type: 'demo.sleep', params: { durationMs: 10_000, steps: 10 }, timeoutMs: 1_500 });
    const view = await waitState(sys, id, ['timed-out'], 15_000);
    expect(view.error.code).toBe('timed_out');
    expect(view.error.message).toMatch(/1500/);
    const h = await checkInvariants(log, id);
    const to = h.find((e) => e.event.type === 'timed-out')!.event as { timeoutMs: number; partial?: string };
    expect(to.timeoutMs).toBe(1_500);
    expect(to.partial).toBeTruthy();
    const started = Date.parse(h.find((e) => e.event.type === 'started')!.event.at);
    const ended = Date.parse(h.find((e) => e.event.type === 'timed-out')!.event.at);
    expect(ended - started).toBeGreaterThanOrEqual(1_500);
    expect(ended - started).toBeLessThan(4_000);
  });

  it('retries a failing task with backoff and resumes from its checkpoint on the third attempt', async () => {
    const id = await submit(sys, { type: 'demo.sleep', params: { durationMs: 600, steps: 6, failAtStep: 3, failAttempts: 2 } });
    const view = await waitState(sys, id, ['completed'], 30_000);
    expect(view.attempt).toBe(3);
    expect(view.result.resumedFrom).toBeGreaterThan(0);
    const h = await checkInvariants(log, id);
    const failed = h.filter((e) => e.event.type === 'failed').map((e) => e.event as { willRetry: boolean; attempt: number });
    expect(failed.map((f) => [f.attempt, f.willRetry])).toEqual([[1, true], [2, true]]);
    expect(h.filter((e) => e.event.type === 'retry-scheduled')).toHaveLength(2);
  });

  it('lets a user retry a failed task from its checkpoint', async () => {
    const id = await submit(sys, { type: 'demo.sleep', params: { durationMs: 300, steps: 3, failAtStep: 2, failAttempts: 3 } });
    const failed = await waitState(sys, id, ['failed'], 30_000);
    expect(failed.error.code).toBeTruthy();
    const list = await http(sys, 'GET', '/v1/tasks?state=failed');
    expect(list.body.items.map((t: { id: string }) => t.id)).toContain(id);
    const retry = await http(sys, 'POST', `/v1/tasks/${id}/retry`, {});
    expect(retry.status).toBe(202);
    const done = await waitState(sys, id, ['completed'], 30_000);
    expect(done.result.resumedFrom).toBeGreaterThan(0);
    expect((await http(sys, 'POST', `/v1/tasks/${id}/retry`, {})).status).toBe(409);
  });
});

// The lease (6 s) is longer than a worker's pull request lives (5 s): a stopped
// worker's last pull request has expired before its task is dispatched again,
// so the new attempt cannot be handed to the stopped worker.
describe('crash recovery with real processes', () => {
  let sys: System;
  let log: EventLog;
  beforeAll(async () => {
    sys = await System.start({ env: { ERRAND_CONCURRENCY: '2', ERRAND_LEASE_MS: '6000', ERRAND_HEARTBEAT_MS: '500', ERRAND_RETRY_BASE_MS: '100' } });
    log = new EventLog(sys.nc);
  });
  afterEach(() => {
    for (const p of sys.procs) if (p.alive) p.signal('SIGCONT');
  });
  afterAll(async () => {
    log?.close();
    await sys?.stop();
  });

  it('takes a task up on another worker after SIGKILL, resuming from its checkpoint, and completes it once', async () => {
    const second = sys.add('worker');
    const id = await submit(sys, { type: 'demo.sleep', params: { durationMs: 4_000, steps: 8 } });
    await waitFor(async () => (await log.history('default', id)).filter((e) => e.event.type === 'checkpoint').length >= 2, { what: 'two checkpoints' });
    const victim = workerOf(sys, await log.history('default', id));
    await victim.stop('SIGKILL');
    const view = await waitState(sys, id, ['completed'], 30_000);
    expect(view.attempt).toBe(2);
    expect(view.result.resumedFrom).toBeGreaterThanOrEqual(2);
    const h = await checkInvariants(log, id);
    expect(h.filter((e) => e.event.type === 'completed')).toHaveLength(1);
    expect((h.find((e) => e.event.type === 'failed')!.event as { error: { code: string } }).error.code).toBe('worker_lost');
    expect(second.alive || sys.get('worker').alive).toBe(true);
    // two live workers again for what follows
    while (sys.procs.filter((p) => p.name === 'worker' && p.alive).length < 2) sys.add('worker');
  });

  it('fences a worker that comes back after SIGSTOP: its late events change nothing', async () => {
    const id = await submit(sys, { type: 'demo.sleep', params: { durationMs: 4_000, steps: 8 } });
    await waitFor(async () => (await log.history('default', id)).some((e) => e.event.type === 'checkpoint'), { what: 'a checkpoint' });
    const victim = workerOf(sys, await log.history('default', id));
    victim.signal('SIGSTOP');
    await waitFor(async () => (await log.history('default', id)).some((e) => e.event.type === 'started' && (e.event as { attempt: number }).attempt === 2), { timeoutMs: 20_000, what: 'attempt 2 to start' });
    victim.signal('SIGCONT');
    const view = await waitState(sys, id, ['completed'], 30_000);
    expect(view.attempt).toBe(2);
    const h = await checkInvariants(log, id);
    expect(h.filter((e) => e.event.type === 'completed')).toHaveLength(1);
    expect((h.find((e) => e.event.type === 'completed')!.event as { attempt: number }).attempt).toBe(2);
  });

  it('survives kill -9 of nats-server: every task reaches a terminal state, no acknowledged event lost', async () => {
    const ids = [
      await submit(sys, { type: 'demo.sleep', params: { durationMs: 3_000, steps: 6 } }),
      await submit(sys, { type: 'demo.sleep', params: { durationMs: 3_000, steps: 6 } }),
      await submit(sys, { type: 'demo.sleep', params: { durationMs: 500, steps: 2 } }),
    ];
    await waitState(sys, ids[0]!, ['running']);
    const before = await log.history('default', ids[0]!);
    await sys.nats.kill();
    await sys.nats.restart();
    for (const id of ids) await waitState(sys, id, ['completed', 'failed', 'timed-out', 'cancelled'], 60_000);
    const after = await checkInvariants(log, ids[0]!);
    for (const e of before) expect(after.some((x) => x.seq === e.seq)).toBe(true);
    for (const id of ids.slice(1)) await checkInvariants(log, id);
  });

  it('resumes from its checkpoint and completes once after every service is SIGKILLed at once', async () => {
    const id = await submit(sys, { type: 'demo.sleep', params: { durationMs: 3_000, steps: 6 } });
    await waitFor(async () => (await log.history('default', id)).filter((e) => e.event.type === 'checkpoint').length >= 2, { what: 'two checkpoints' });
    const names = sys.procs.filter((p) => p.alive).map((p) => p.name);
    await Promise.all(sys.procs.map((p) => p.stop('SIGKILL')));
    sys.procs.splice(0);
    for (const n of names) sys.add(n);
    await sys.ready();
    const view = await waitState(sys, id, ['completed'], 60_000);
    expect(view.result.resumedFrom).toBeGreaterThanOrEqual(2);
    const h = await checkInvariants(log, id);
    expect(h.filter((e) => e.event.type === 'completed')).toHaveLength(1);
  });
});
