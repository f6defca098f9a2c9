import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTaskType, typeInfo } from './registry.ts';

const sleep = defineTaskType({
  name: 'docs.summarise',
  description: 'Summarise a document',
  params: z.object({ url: z.string(), words: z.number().int().default(100) }),
  run: () => 'ok',
});

describe('task type registry', () => {
  it('publishes the JSON Schema of params (input side: defaults are optional)', () => {
    const info = typeInfo(sleep, new Date(0));
    expect(info).toMatchObject({ name: 'docs.summarise', description: 'Summarise a document', pool: 'default', defaults: { timeoutMs: 600_000, priority: 5, maxAttempts: 3 } });
    expect(info.paramsSchema).toMatchObject({ type: 'object', required: ['url'] });
    expect((info.paramsSchema.properties as Record<string, unknown>).words).toMatchObject({ default: 100 });
  });
  it("publishes the type's own pool over the worker's, and the worker's over `default`", () => {
    const gpu = defineTaskType({ name: 'img.render', params: z.object({}), defaults: { pool: 'gpu', maxAttempts: 1 }, run: () => 1 });
    expect(typeInfo(gpu, new Date(0), 'batch')).toMatchObject({ pool: 'gpu', defaults: { maxAttempts: 1 } });
    expect(typeInfo(sleep, new Date(0), 'batch')).toMatchObject({ pool: 'batch' });
  });
  it('refuses a type whose name cannot be published', () => {
    const bad = defineTaskType({ name: 'bad name', params: z.object({}), run: () => 1 });
    expect(() => typeInfo(bad, new Date(0))).toThrow();
  });
});
