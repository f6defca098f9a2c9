import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

describe('createLogger', () => {
  it('writes JSON lines on stderr with service, level and msg, and redacts secrets', () => {
    const code = `import { createLogger } from './packages/runtime/src/logger.ts';
      const l = createLogger('svc', { a: 1 });
      l.info('hello', { secret: 'whsec_abc', target: { url: 'https://hooks.example/T0/xyz' }, n: 2 });
      l.child({ c: 3 }).warn('careful', { error: new Error('boom') });`;
    const r = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ level: 'info', service: 'svc', a: 1, msg: 'hello', n: 2, secret: '[redacted]' });
    expect(lines[0].target.url).toBe('[redacted]');
    expect(r.stderr).not.toContain('whsec_abc');
    expect(r.stderr).not.toContain('xyz');
    expect(lines[1]).toMatchObject({ level: 'warn', c: 3, msg: 'careful', error: { message: 'boom' } });
    expect(Date.parse(lines[0].time)).toBeGreaterThan(0);
  });
});
