import { describe, expect, it } from 'vitest';
import { FairQueue } from './queue.ts';

describe('FairQueue', () => {
  it('orders by priority, then round-robin between users, then first come first served', () => {
    const q = new FairQueue();
    q.push('a1', 'a', 5);
    q.push('a2', 'a', 5);
    q.push('b1', 'b', 5);
    q.push('h1', 'c', 8);
    q.push('l1', 'a', 2);
    expect(q.order()).toEqual(['h1', 'a1', 'b1', 'a2', 'l1']);
  });

  it('skips removed entries and drops users whose line empties', () => {
    const q = new FairQueue();
    for (const k of ['a1', 'a2', 'a3']) q.push(k, 'a', 5);
    q.push('b1', 'b', 5);
    expect(q.remove('a1')).toBe(true);
    expect(q.remove('a1')).toBe(false);
    expect(q.size).toBe(3);
    expect(q.pop(() => true)?.key).toBe('a2');
    expect(q.pop(() => true)?.key).toBe('b1');
    expect(q.pop(() => true)?.key).toBe('a3');
    expect(q.pop(() => true)).toBeUndefined();
  });

  it('puts a retry at the front of its line', () => {
    const q = new FairQueue();
    q.push('a1', 'a', 5);
    q.push('r', 'a', 5, true);
    expect(q.order()).toEqual(['r', 'a1']);
  });

  it('estimates the position of a new task', () => {
    const q = new FairQueue();
    q.push('h', 'x', 9);
    q.push('a1', 'a', 5);
    q.push('a2', 'a', 5);
    q.push('b1', 'b', 5);
    // one higher, then a1 b1 a2 (round-robin) before b's second task
    expect(q.positionFor('b', 5)).toBe(4);
    expect(q.positionFor('c', 5)).toBe(3);
    expect(q.positionFor('c', 9)).toBe(1);
  });

  it('passes over a task that does not fit without losing it', () => {
    const q = new FairQueue();
    q.push('r1', 'a', 5);
    q.push('s1', 'a', 5);
    expect(q.pop((k) => k !== 'r1')?.key).toBe('s1');
    expect(q.pop(() => true)?.key).toBe('r1');
  });
});
