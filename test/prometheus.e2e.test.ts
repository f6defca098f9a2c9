import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@errand/testing';
import { System, http } from './harness.ts';
import { program } from './tools.ts';

const KEY = 'k-prom-acme';
const TOKEN = 'metrics-token-0123456789abcdef';

/** A real Prometheus (Debian's) on a free port, scraping the intake every 500 ms with the metrics token. */
class Prometheus {
  child!: ChildProcess;
  dir = '';
  port = 0;
  output = '';

  static async start(target: string): Promise<Prometheus> {
    const p = new Prometheus();
    p.dir = mkdtempSync(join(tmpdir(), 'errand-prom-'));
    p.port = await freePort();
    writeFileSync(
      join(p.dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 500ms, evaluation_interval: 500ms }',
        'scrape_configs:',
        '  - job_name: errand',
        '    scrape_interval: 500ms',
        '    scrape_timeout: 400ms',
        '    authorization: { type: Bearer, credentials: ' + TOKEN + ' }',
        `    static_configs: [{ targets: ['${target}'] }]`,
        '',
      ].join('\n'),
    );
    p.child = spawn(program('prometheus'), [
      `--config.file=${join(p.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(p.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${p.port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.child.stdout?.on('data', (d: Buffer) => (p.output += d.toString()));
    p.child.stderr?.on('data', (d: Buffer) => (p.output += d.toString()));
    await waitFor(async () => (await fetch(`${p.url}/-/ready`).catch(() => undefined))?.status === 200, {
      timeoutMs: 30_000,
      what: 'prometheus to be ready',
    });
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** An instant PromQL query through the HTTP API: label set -> value. */
  async query(promql: string): Promise<Map<string, number>> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${JSON.stringify(body)}`);
    return new Map(body.data.result.map((r) => [Object.values(r.metric).join(','), Number(r.value[1])]));
  }

  async stop(): Promise<void> {
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('GET /metrics scraped by a real Prometheus', () => {
  let sys: System;
  let prom: Prometheus;
  const auth = { authorization: `Bearer ${KEY}` };
  const waitState = (_sys: System, id: string, states: string[]) =>
    waitFor(
      async () => {
        const r = await http(sys, 'GET', `/v1/tasks/${id}`, undefined, auth);
        return r.status === 200 && states.includes(r.body.state) ? r.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `task ${id} to reach ${states.join('/')}` },
    );

  beforeAll(async () => {
    sys = await System.start({
      env: {
        ERRAND_API_KEYS: `${KEY}=acme`,
        ERRAND_SECRET_KEY: 'prom-e2e-secret-key-0123456789abcdef',
        ERRAND_METRICS_TOKEN: TOKEN,
        ERRAND_CONCURRENCY: '10',
        ERRAND_WORKER_CONCURRENCY: '10',
        ERRAND_MAX_PENDING_PER_USER: '100',
        ERRAND_RETRY_BASE_MS: '20',
        ERRAND_RETRY_MAX_MS: '40',
      },
    });
    prom = await Prometheus.start(`127.0.0.1:${sys.port}`);
  });

  afterAll(async () => {
    await prom?.stop();
    await sys?.stop();
  });

  it('answers only to the metrics token when API keys are configured', async () => {
    expect((await http(sys, 'GET', '/metrics')).status).toBe(401);
    const withKey = await http(sys, 'GET', '/metrics', undefined, auth);
    expect(withKey.status).toBe(401);
    expect(withKey.body.error.code).toBe('unauthorized');
    const ok = await fetch(`${sys.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('after 20 completed, 3 failed and 2 cancelled tasks, PromQL answers the counts by outcome and 25 waits', async () => {
    const submit = async (params: object) => {
      const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params, user: 'u-prom' }, auth);
      expect(r.status).toBe(202);
      return r.body.id as string;
    };
    const long = [await submit({ durationMs: 60_000, steps: 60 }), await submit({ durationMs: 60_000, steps: 60 })];
    const quick = await Promise.all(Array.from({ length: 20 }, () => submit({ durationMs: 50, steps: 1 })));
    const failing = await Promise.all(Array.from({ length: 3 }, () => submit({ durationMs: 30, steps: 2, failAtStep: 1 })));
    for (const id of long) await waitState(sys, id, ['running']);
    for (const id of long) expect((await http(sys, 'POST', `/v1/tasks/${id}/cancel`, {}, auth)).status).toBe(202);
    for (const id of quick) await waitState(sys, id, ['completed']);
    for (const id of failing) await waitState(sys, id, ['failed']);
    for (const id of long) await waitState(sys, id, ['cancelled']);

    const byOutcome = await waitFor(
      async () => {
        const m = await prom.query('sum by (outcome) (errand_tasks_finished_total{tenant="acme",type="demo.sleep"})');
        return m.get('completed') === 20 && m.get('failed') === 3 && m.get('cancelled') === 2 ? m : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'Prometheus to see 20 completed, 3 failed, 2 cancelled' },
    );
    expect(byOutcome.size).toBe(3);
    const waits = await waitFor(
      async () => (await prom.query('sum(errand_task_wait_seconds_count{type="demo.sleep"})')).get(''),
      { timeoutMs: 10_000, intervalMs: 250, what: 'the wait histogram' },
    );
    expect(waits).toBe(25);
    expect((await prom.query('sum(errand_tasks_submitted_total{tenant="acme"})')).get('')).toBe(25);
    // the failed tasks ran three attempts each, but each run is observed once, at its end
    expect((await prom.query('sum(errand_task_run_seconds_count{type="demo.sleep"})')).get('')).toBe(25);
    // nothing is left waiting or running
    const open = await prom.query('sum(errand_tasks{tenant="acme"})');
    expect(open.get('')).toBe(0);
    // the worker gauges come from the heartbeats: one worker of 10 slots, all free once the tasks ended
    await waitFor(
      async () => {
        const workers = await prom.query('sum by (pool) (errand_workers)');
        const free = await prom.query('sum by (pool) (errand_worker_slots_free)');
        return workers.get('default') === 1 && free.get('default') === 10;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'one worker with 10 free slots on the default pool' },
    );
  });
});
