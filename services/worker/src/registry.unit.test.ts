import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildRegistry, defineTaskType, typeInfo } from './registry.ts';
import { builtinTypes } from './types/index.ts';

describe('task type registry', () => {
  it('publishes the JSON Schema of params (input side: defaults are optional)', () => {
    const sleep = builtinTypes().find((t) => t.name === 'demo.sleep')!;
    const info = typeInfo(sleep, new Date(0));
    expect(info).toMatchObject({ name: 'demo.sleep', pool: 'default', defaults: { timeoutMs: 600_000, priority: 5, maxAttempts: 3 } });
    expect(info.paramsSchema).toMatchObject({ type: 'object', required: ['durationMs'] });
    expect((info.paramsSchema.properties as Record<string, unknown>).steps).toMatchObject({ default: 10 });
  });
  it('registers the built-ins and lets a custom type replace one', () => {
    const mine = defineTaskType({ name: 'demo.noop', params: z.object({}), defaults: { pool: 'gpu', maxAttempts: 1 }, run: () => 1 });
    const reg = buildRegistry([...builtinTypes(), mine]);
    expect([...reg.keys()].sort()).toEqual(['demo.noop', 'demo.report', 'demo.sleep']);
    expect(typeInfo(reg.get('demo.noop')!, new Date(0))).toMatchObject({ pool: 'gpu', defaults: { maxAttempts: 1 } });
  });
  it('refuses a type whose name cannot be published', () => {
    const bad = defineTaskType({ name: 'bad name', params: z.object({}), defaults: {}, run: () => 1 });
    expect(() => buildRegistry([bad])).toThrow();
  });
});
