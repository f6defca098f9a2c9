import { describe, expect, it } from 'vitest';
import { FairQueue } from './queue.ts';

describe('FairQueue', () => {
  it('orders by priority, then round-robin between users, then first come first served', () => {
    const q = new FairQueue();
    q.push('a1', 'a', 'x', 5);
    q.push('a2', 'a', 'x', 5);
    q.push('b1', 'b', 'x', 5);
    q.push('h1', 'c', 'x', 8);
    q.push('l1', 'a', 'x', 2);
    expect(q.order()).toEqual(['h1', 'a1', 'b1', 'a2', 'l1']);
  });

  it('skips removed entries and drops users whose line empties', () => {
    const q = new FairQueue();
    for (const k of ['a1', 'a2', 'a3']) q.push(k, 'a', 'x', 5);
    q.push('b1', 'b', 'x', 5);
    expect(q.remove('a1')).toBe(true);
    expect(q.remove('a1')).toBe(false);
    expect(q.size).toBe(3);
    expect(q.order()).toEqual(['a2', 'b1', 'a3']);
    q.take('a2');
    q.take('b1');
    expect(q.order()).toEqual(['a3']);
    q.take('a3');
    expect(q.order()).toEqual([]);
  });

  it('puts a retry at the front of its line', () => {
    const q = new FairQueue();
    q.push('a1', 'a', 'x', 5);
    q.push('r', 'a', 'x', 5, true);
    expect(q.order()).toEqual(['r', 'a1']);
  });

  it('estimates the position of a new task', () => {
    const q = new FairQueue();
    q.push('h', 'x', 'x', 9);
    q.push('a1', 'a', 'x', 5);
    q.push('a2', 'a', 'x', 5);
    q.push('b1', 'b', 'x', 5);
    // one higher, then a1 b1 a2 (round-robin) before b's second task
    expect(q.positionFor('b', 5)).toBe(4);
    expect(q.positionFor('c', 5)).toBe(3);
    expect(q.positionFor('c', 9)).toBe(1);
  });

  it('moves the turn past the line of a task taken (dispatched), and walking changes nothing', () => {
    const q = new FairQueue();
    for (const k of ['a1', 'a2']) q.push(k, 't/a', 'x', 5);
    for (const k of ['b1', 'b2']) q.push(k, 't/b', 'x', 5);
    expect(q.order()).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(q.order()).toEqual(['a1', 'b1', 'a2', 'b2']);
    q.take('a1');
    expect(q.order()).toEqual(['b1', 'a2', 'b2']);
    q.take('b1');
    expect(q.order()).toEqual(['a2', 'b2']);
  });

  it('keeps one line per tenant and user: two tenants\' users of one name are two lines', () => {
    const q = new FairQueue();
    for (const k of ['x1', 'x2']) q.push(k, 'acme/sam', 'x', 5);
    for (const k of ['y1', 'y2']) q.push(k, 'beta/sam', 'x', 5);
    expect(q.order()).toEqual(['x1', 'y1', 'x2', 'y2']);
  });

  it('keeps first come first served within a line across task types, and passes over skipped types', () => {
    const q = new FairQueue();
    q.push('a1', 'a', 'dead', 5);
    q.push('a2', 'a', 'ok', 5);
    q.push('a3', 'a', 'dead', 5);
    q.push('a4', 'a', 'ok', 5);
    q.push('r', 'a', 'dead', 5, true);
    expect(q.order()).toEqual(['r', 'a1', 'a2', 'a3', 'a4']);
    expect([...q.walk((t) => t === 'dead')].map((c) => c.key)).toEqual(['a2', 'a4']);
  });

  it('counts a key removed and pushed again once, at its new place', () => {
    const q = new FairQueue();
    q.push('k', 'a', 'x', 5);
    q.push('m', 'a', 'x', 5);
    q.remove('k');
    q.push('k', 'a', 'x', 5);
    expect(q.order()).toEqual(['m', 'k']);
    q.remove('k');
    q.push('k', 'a', 'x', 5, true);
    expect(q.order()).toEqual(['k', 'm']);
    expect(q.size).toBe(2);
  });
});
