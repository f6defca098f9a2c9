import { describe, expect, it } from 'vitest';
import { encodeResult } from './result.ts';

describe('encodeResult', () => {
  it('encodes a result within the limit', () => {
    const r = encodeResult({ a: 'é' }, 100);
    expect('data' in r && new TextDecoder().decode(r.data)).toBe('{"a":"é"}');
    expect(encodeResult(undefined, 100)).toEqual({ data: new TextEncoder().encode('null') });
  });

  it('refuses a result over the limit, counting UTF-8 bytes', () => {
    const r = encodeResult('é'.repeat(60), 100); // 62 characters, 122 bytes
    expect(r).toMatchObject({ error: { code: 'result_too_large' } });
    expect('error' in r && r.error.message).toMatch(/122 bytes of JSON, over the limit of 100/);
  });

  it('refuses what is not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(encodeResult(cyclic, 1000)).toMatchObject({ error: { code: 'invalid_result' } });
    expect(encodeResult(10n, 1000)).toMatchObject({ error: { code: 'invalid_result' } });
  });
});
