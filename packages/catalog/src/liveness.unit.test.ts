import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '@errand/contracts';
import { Liveness } from './liveness.ts';

const hb = (workerId: string, types: string[], extra: Partial<Heartbeat> = {}): Heartbeat => ({
  workerId,
  at: '',
  tasks: [],
  types,
  slots: 4,
  freeSlots: 2,
  ...extra,
});

describe('Liveness', () => {
  it('given a beat, then its types are live within the lease and not after', () => {
    const l = new Liveness(1_000);
    expect(l.beat(hb('w1', ['a', 'b']), 0).sort()).toEqual(['a', 'b']);
    expect(l.of('a', 999)).toEqual({ workers: 1, freeSlots: 2, lastSeenAt: 0 });
    expect(l.of('a', 1_000).workers).toBe(0);
    expect(l.expire(1_000).sort()).toEqual(['a', 'b']);
    expect(l.of('a', 1_000).lastSeenAt).toBe(0);
  });

  it('sums workers and free slots per type', () => {
    const l = new Liveness(1_000);
    l.beat(hb('w1', ['a']), 0);
    l.beat(hb('w2', ['a', 'b'], { freeSlots: 3 }), 10);
    expect(l.of('a', 20)).toEqual({ workers: 2, freeSlots: 5, lastSeenAt: 10 });
    expect(l.of('b', 20).workers).toBe(1);
  });

  it('given a stopping beat, then the worker is gone at once', () => {
    const l = new Liveness(1_000);
    l.beat(hb('w1', ['a']), 0);
    expect(l.beat(hb('w1', ['a'], { stopping: true }), 5)).toEqual(['a']);
    expect(l.of('a', 6)).toEqual({ workers: 0, freeSlots: 0, lastSeenAt: 5 });
  });

  it('given a worker that drops a type, then the type goes offline and both are reported', () => {
    const l = new Liveness(1_000);
    l.beat(hb('w1', ['a', 'b']), 0);
    expect(l.beat(hb('w1', ['a']), 1).sort()).toEqual(['a', 'b']);
    expect(l.of('b', 2).workers).toBe(0);
  });
});
