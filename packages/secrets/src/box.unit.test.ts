import { describe, expect, it } from 'vitest';
import { SecretBox } from './box.ts';

describe('secrets', () => {
  it('seals and opens, and refuses a wrong key', () => {
    const box = new SecretBox('k'.repeat(32));
    const sealed = box.seal('whsec_abc');
    expect(sealed).not.toContain('whsec');
    expect(box.open(sealed)).toBe('whsec_abc');
    expect(() => new SecretBox('x'.repeat(32)).open(sealed)).toThrow();
  });
});
