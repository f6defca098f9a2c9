import { describe, expect, it } from 'vitest';
import { closeSchema } from './closed-schema.ts';

describe('closeSchema', () => {
  it('closes an object schema that names its properties, and nested ones', () => {
    const s = closeSchema({ type: 'object', properties: { days: { type: 'number' }, range: { type: 'object', properties: { from: { type: 'string' } } } } });
    expect(s).toEqual({
      type: 'object',
      properties: { days: { type: 'number' }, range: { type: 'object', properties: { from: { type: 'string' } }, unevaluatedProperties: false } },
      unevaluatedProperties: false,
    });
  });

  it('keeps what the schema says of other properties, and free-form objects', () => {
    expect(closeSchema({ type: 'object', properties: { a: {} }, additionalProperties: true })).not.toHaveProperty('unevaluatedProperties');
    expect(closeSchema({ type: 'object', additionalProperties: { type: 'number' } })).not.toHaveProperty('unevaluatedProperties');
    expect(closeSchema({ type: 'object' })).toEqual({ type: 'object' });
    expect(closeSchema({})).toEqual({});
  });

  it('closes a composition at the composing schema, not at its members', () => {
    const s = closeSchema({ allOf: [{ type: 'object', properties: { a: {} } }, { properties: { b: {} } }] });
    expect(s).toEqual({ allOf: [{ type: 'object', properties: { a: {} } }, { properties: { b: {} } }], unevaluatedProperties: false });
  });

  it('closes objects inside arrays and definitions', () => {
    const s = closeSchema({ type: 'array', items: { type: 'object', properties: { x: {} } }, $defs: { y: { properties: { z: {} } } } });
    expect(s.items).toHaveProperty('unevaluatedProperties', false);
    expect((s.$defs as Record<string, object>).y).toHaveProperty('unevaluatedProperties', false);
  });
});
