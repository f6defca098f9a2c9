import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { System, http, waitState } from './harness.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** Run the `errand` CLI as a person would (`pnpm errand`), against the system's intake. */
function errand(sys: System, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages', 'client', 'src', 'cli.ts'), ...args], {
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
});
