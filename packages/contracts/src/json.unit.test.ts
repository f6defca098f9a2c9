import { describe, expect, it } from 'vitest';
import { ErrandError } from './errors.ts';
import { jsonTooDeep, MAX_JSON_DEPTH, parseJsonBody, valueTooDeep } from './json.ts';

const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('jsonTooDeep', () => {
  it('allows 64 levels and refuses 65', () => {
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTooDeep(`{"a":${nested(64)}}`)).toBe(true);
  });
  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonTooDeep(JSON.stringify({ s: '['.repeat(500) + '\\"{{{{' }))).toBe(false);
  });
  it('scans a million levels without overflowing the stack', () => {
    expect(jsonTooDeep(nested(1_000_000))).toBe(true);
  });
});

describe('parseJsonBody', () => {
  it('parses, and says invalid for malformed or too deep bodies', () => {
    expect(parseJsonBody('{"a":[1]}')).toEqual({ a: [1] });
    expect(parseJsonBody('  ')).toBeUndefined();
    for (const bad of ['{', nested(5000), '{"a":1}}']) {
      const err = (() => {
        try {
          parseJsonBody(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ErrandError);
      expect((err as ErrandError).code).toBe('invalid');
    }
  });
});

describe('valueTooDeep', () => {
  it('walks a parsed value without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(valueTooDeep(deep)).toBe(true);
    expect(valueTooDeep({ a: [{ b: 1 }] })).toBe(false);
  });
});
