import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStoreError } from './errors.ts';
import { takeLock } from './lock.ts';
import { openHistoryStore } from './store.ts';
import { feed, postgresBackend, submitted, unique } from './testkit.ts';
import { StaleProjectorError } from './types.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'errand-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('the embedded store’s lock', () => {
  it('refuses a folder another live process holds, and says to use ERRAND_DATABASE_URL', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'history.lock'), `${process.ppid}\n`); // our parent: alive, not us
    const opening = openHistoryStore({ dataDir });
    await expect(opening).rejects.toThrow(HistoryStoreError);
    await expect(opening).rejects.toThrow(/ERRAND_DATABASE_URL/);
    await expect(opening).rejects.toMatchObject({ code: 'store_locked', retryable: false });
    expect(existsSync(join(dataDir, 'history'))).toBe(false);
  });

  it('takes over the lock of a dead process, and releases its own', () => {
    const dataDir = tempDir();
    const file = join(dataDir, 'history.lock');
    writeFileSync(file, `${deadPid()}\n`);
    const release = takeLock(file, dataDir);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    expect(() => takeLock(file, dataDir)).toThrow(/another process/);
    release();
    expect(existsSync(file)).toBe(false);
  });

  it('takes over an unreadable lock', () => {
    const dataDir = tempDir();
    const file = join(dataDir, 'history.lock');
    writeFileSync(file, 'garbage');
    takeLock(file, dataDir)();
    expect(existsSync(file)).toBe(false);
  });
});

describe('two writers on one PostgreSQL', () => {
  it('the one that fell behind gets StaleProjectorError, and after catching up writes on what the other wrote', async () => {
    const backend = await postgresBackend();
    const a = await backend.open();
    const b = await openHistoryStore(backend.options);
    try {
      await a.reset('log');
      const tenant = unique('t');
      await feed(a, [submitted('A', tenant)]); // A caches the task at seq 1
      await b.apply([{ seq: 2, event: { type: 'queued', taskId: 'A', tenant, at: new Date().toISOString(), position: 4 } }], 2, 1);
      const late = { seq: 3, event: { type: 'cancel-requested' as const, taskId: 'A', tenant, at: new Date().toISOString(), by: 'u' } };
      await expect(a.apply([late], 3, 1)).rejects.toThrow(StaleProjectorError);
      await a.apply([late], 3, await a.appliedSeq());
      expect(await b.getTask(tenant, 'A')).toMatchObject({ state: 'queued', position: 4, eventCount: 3 });
    } finally {
      await a.close();
      await b.close();
      await backend.cleanup();
    }
  });
});
