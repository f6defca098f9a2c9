import { describe, expect, it } from 'vitest';
import type { TaskTypeInfo } from '@errand/contracts';
import { canonicalJson, natsSubjectProblem, resolveSettings } from './submit-plan.ts';

const type: TaskTypeInfo = {
  name: 'demo.sleep',
  paramsSchema: {},
  pool: 'default',
  defaults: { timeoutMs: 30_000, priority: 3, maxAttempts: 3 },
  updatedAt: '2025-01-01T00:00:00.000Z',
};

describe('resolveSettings', () => {
  it("fills the type's defaults", () => {
    expect(resolveSettings({ type: 'demo.sleep' }, type, 100_000)).toEqual({
      user: 'default',
      params: {},
      priority: 3,
      timeoutMs: 30_000,
      progressEveryMs: 10_000,
    });
  });
  it('maps priority names and keeps given values', () => {
    const s = resolveSettings({ type: 'demo.sleep', priority: 'high', timeoutMs: 5, user: 'u', progressEveryMs: 500 }, type, 100_000);
    expect(s).toMatchObject({ priority: 8, timeoutMs: 5, user: 'u', progressEveryMs: 500 });
  });
  it('refuses a timeout above the limit', () => {
    expect(() => resolveSettings({ type: 'demo.sleep', timeoutMs: 200_000 }, type, 100_000)).toThrow(/above the limit/);
  });
});

describe('natsSubjectProblem', () => {
  it('accepts a subject under the tenant prefix', () => {
    expect(natsSubjectProblem('errand.notify.acme.conv-9', 'acme')).toBeUndefined();
    expect(natsSubjectProblem('errand.notify.acme.a.b', 'acme')).toBeUndefined();
  });
  it.each(['errand.notify.other.x', 'errand.notify.acme.', 'errand.notify.acme.*', 'errand.notify.acme.>', 'errand.notify.acme.a..b', 'errand.notify.acme.a b'])(
    'refuses %s',
    (s) => expect(natsSubjectProblem(s, 'acme')).toBeDefined(),
  );
});

describe('canonicalJson', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 2, y: 1 }] }, b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });
});

describe('canonicalJson depth', () => {
  it('refuses a value nested deeper than 64 levels as invalid, without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(() => canonicalJson(deep)).toThrow(/nested deeper than 64/);
    let ok: unknown = 1;
    for (let i = 0; i < 64; i++) ok = [ok];
    expect(canonicalJson(ok)).toBe(`${'['.repeat(64)}1${']'.repeat(64)}`);
  });
});
