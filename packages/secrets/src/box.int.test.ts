import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSecretKey } from './box.ts';

// six processes start at once: an integration test (it timed out as a unit test in a full, loaded unit run)
describe('development secret key', () => {
  it('gives every process that starts at once the same, whole development key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'errand-key-'));
    try {
      const code = `import { loadSecretKey } from './packages/secrets/src/box.ts';
        process.stdout.write(loadSecretKey({ devMode: true, ERRAND_DATA_DIR: ${JSON.stringify(dir)} }));`;
      const run = () =>
        new Promise<string>((resolve, reject) => {
          const c = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', code]);
          let out = '';
          c.stdout.on('data', (d: Buffer) => (out += d.toString()));
          c.on('exit', (status) => (status === 0 ? resolve(out) : reject(new Error(`exit ${status}`))));
        });
      const keys = await Promise.all(Array.from({ length: 6 }, run));
      expect(keys[0]!.length).toBeGreaterThanOrEqual(40);
      expect(new Set(keys).size).toBe(1);
      expect(loadSecretKey({ devMode: true, ERRAND_DATA_DIR: dir })).toBe(keys[0]);
      expect(readdirSync(dir)).toEqual(['secret.key']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
