import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrandClient, type TaskView } from '@errand/client';
import { waitFor } from '@errand/testing';
import { System, http, waitState } from './harness.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** Run the `errand` CLI as a person would (`pnpm errand`), against the system's intake. */
function errand(sys: System, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', join(ROOT, 'packages', 'client', 'src', 'cli.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ERRAND_URL: sys.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('the errand CLI for people and for programs', () => {
  let sys: System;
  const ids: string[] = [];
  beforeAll(async () => {
    sys = await System.start();
    for (const user of ['ada', 'bob']) {
      const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.noop', params: { result: user }, user });
      ids.push(r.body.id as string);
    }
    for (const id of ids) await waitState(sys, id, ['completed']);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('errand list prints a table; errand list --json the API JSON', async () => {
    const human = await errand(sys, ['list']);
    expect(human.code, human.stderr).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+STATE\s+PROGRESS\s+AGE\s+USER$/);
    // newest first, one row per task
    expect(lines[1]).toMatch(new RegExp(`^${ids[1]}\\s+demo\\.noop\\s+completed\\s+█+ 100%\\s+.+ago\\s+bob$`));
    expect(lines[2]).toMatch(new RegExp(`^${ids[0]}\\s+demo\\.noop\\s+completed\\s+.+\\s+ada$`));

    const machine = await errand(sys, ['list', '--json']);
    expect(machine.code, machine.stderr).toBe(0);
    const api = await http(sys, 'GET', '/v1/tasks');
    expect(JSON.parse(machine.stdout)).toEqual(api.body);
  });

  it('errand status speaks in sentences and history shows the timeline', async () => {
    const status = await errand(sys, ['status', ids[0]!]);
    expect(status.stdout).toContain(`Task ${ids[0]} (demo.noop, user ada, priority 5) is completed.`);
    expect(status.stdout).toContain('Result: "ada"');
    const history = await errand(sys, ['history', ids[0]!]);
    expect(history.stdout).toMatch(/Timeline:\n {2}… waited in the queue\s+\S+\n {2}▶ ran attempt 1\s+\S+ {2}→ completed/);
  });

  it('errand top draws the running tasks, the queue and the types (one screen when not on a terminal)', async () => {
    const running = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 20_000 }, user: 'cy' });
    await waitState(sys, running.body.id as string, ['running']);
    const out = await errand(sys, ['top']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/1 running, 0 queued/);
    expect(out.stdout).toMatch(new RegExp(`${running.body.id}\\s+demo\\.sleep\\s+cy\\s+[█░]+\\s+\\d+%`));
    expect(out.stdout).toMatch(/TASK TYPES[\s\S]*demo\.noop\s+default/);
    await http(sys, 'POST', `/v1/tasks/${running.body.id}/cancel`, {});
  });

  it('ErrandClient.changes streams the live task views', async () => {
    const client = new ErrandClient({ baseUrl: sys.url });
    const ac = new AbortController();
    const seen: TaskView[] = [];
    let done = false;
    const reading = (async () => {
      for await (const c of client.changes({ user: 'dee' }, { signal: ac.signal })) {
        if (c.kind === 'task') seen.push(c.view);
        if (c.kind === 'task' && c.view.state === 'completed') break;
      }
      done = true;
    })();
    // a task that runs a second: its later changes come after the stream is open, whenever it opened
    const sub = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 1_000, steps: 4 }, user: 'dee' });
    await waitFor(() => done, { timeoutMs: 15_000, what: 'the completed view on the change stream' });
    ac.abort();
    await reading;
    expect(seen.at(-1)).toMatchObject({ id: sub.body.id, state: 'completed' });
    expect(seen.some((v) => v.state === 'running' && v.progress.percent > 0)).toBe(true);
    expect(seen.every((v) => v.user === 'dee' && v.result === undefined)).toBe(true);
  });
});
