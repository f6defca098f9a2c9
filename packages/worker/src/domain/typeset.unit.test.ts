import { describe, expect, it } from 'vitest';
import { typeSetProblems, type TypeSpec } from './typeset.ts';

const spec = (name: string, paramNames: string[] = [], pool = 'default'): TypeSpec => ({ name, pool, paramNames });

describe('typeSetProblems', () => {
  it('accepts distinct, well-named types', () => {
    expect(typeSetProblems([spec('docs.summarise', ['url']), spec('docs.translate')], ['demo.noop', 'docs.summarise'])).toEqual([]);
  });
  it('refuses a name that breaks TASK_TYPE_RE', () => {
    expect(typeSetProblems([spec('1bad')])[0]).toMatch(/"1bad" is not valid/);
    expect(typeSetProblems([spec('has space')])[0]).toMatch(/is not valid/);
  });
  it('refuses two types of its own set with one token', () => {
    const p = typeSetProblems([spec('docs.sum'), spec('docs_sum')]);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/docs\.sum and docs_sum would share .*"docs_sum"/);
  });
  it('refuses a type whose token equals that of another type already registered', () => {
    expect(typeSetProblems([spec('docs_sum')], ['docs.sum', 'demo.noop'])).toEqual([
      expect.stringMatching(/docs_sum would share .* with the registered type docs\.sum/),
    ]);
  });
  it('refuses params that name the reserved property errand', () => {
    expect(typeSetProblems([spec('a.b', ['x', 'errand'])])[0]).toMatch(/may not name a property "errand"/);
  });
  it('refuses a bad pool, a duplicate name and an empty set', () => {
    expect(typeSetProblems([spec('a.b', [], 'gpu pool')])[0]).toMatch(/pool "gpu pool" is not valid/);
    expect(typeSetProblems([spec('a.b'), spec('a.b')])).toEqual(['task type a.b is given twice']);
    expect(typeSetProblems([])[0]).toMatch(/no task types/);
  });
});
