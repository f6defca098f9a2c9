import { describe, expect, it } from 'vitest';
import { allocateSlots, type ConsumerSlots } from './allocate.ts';

const c = (key: string, asked = 0, busy = false): ConsumerSlots => ({ key, asked, busy });
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('allocateSlots', () => {
  it('never asks for more than the free slots', () => {
    for (let free = 0; free < 12; free++) {
      const m = allocateSlots(free, [c('a'), c('b', 2, true), c('c', 1)], free);
      expect(total(m)).toBe(free);
    }
  });
  it('gives a single consumer every free slot', () => {
    expect(allocateSlots(8, [c('only')], 0)).toEqual(new Map([['only', 8]]));
  });
  it('first hears every consumer with no open request, in turn', () => {
    expect(allocateSlots(1, [c('a'), c('b'), c('c')], 0)).toEqual(new Map([['a', 1]]));
    expect(allocateSlots(1, [c('a'), c('b'), c('c')], 1)).toEqual(new Map([['b', 1]]));
    expect(allocateSlots(2, [c('a', 1), c('b'), c('c')], 0)).toEqual(new Map([['b', 1], ['c', 1]]));
  });
  it('gives the rest to the consumers whose last pull brought work', () => {
    const m = allocateSlots(6, [c('sleep', 1), c('noop', 0, true), c('report', 1)], 0);
    expect(m).toEqual(new Map([['noop', 6]]));
    const m2 = allocateSlots(7, [c('x', 0, true), c('y', 0, true), c('z', 1)], 0);
    expect(m2.get('x')! + m2.get('y')!).toBe(7);
    expect(m2.has('z')).toBe(false);
  });
  it('spreads evenly when no consumer is busy', () => {
    expect(allocateSlots(8, [c('a'), c('b'), c('c')], 0)).toEqual(new Map([['a', 3], ['b', 3], ['c', 2]]));
  });
});
