import { describe, expect, it } from 'vitest';
import { newTaskId } from '@errand/contracts';
import { fairShare, partitionOf } from './partition.ts';

describe('partitions', () => {
  it('puts a task in the same partition every time, and spreads tasks over all of them', () => {
    const ids = Array.from({ length: 400 }, () => newTaskId());
    expect(ids.map((id) => partitionOf(id, 4))).toEqual(ids.map((id) => partitionOf(id, 4)));
    const counts = [0, 0, 0, 0];
    for (const id of ids) counts[partitionOf(id, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(50);
    expect(partitionOf('anything', 1)).toBe(0);
  });

  it('gives each notifier an even share, rounded up', () => {
    expect([1, 2, 3, 4, 8].map((m) => fairShare(4, m))).toEqual([4, 2, 2, 1, 1]);
    expect(fairShare(4, 0)).toBe(4);
  });
});
