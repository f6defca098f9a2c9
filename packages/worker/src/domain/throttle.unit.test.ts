import { describe, expect, it } from 'vitest';
import { ProgressThrottle } from './throttle.ts';

describe('ProgressThrottle', () => {
  it('emits the first report at once', () => {
    const t = new ProgressThrottle<number>(250);
    expect(t.offer(10, 1000)).toEqual({ emit: 10 });
  });

  it('holds reports inside the interval, keeping only the newest', () => {
    const t = new ProgressThrottle<number>(250);
    t.offer(10, 1000);
    expect(t.offer(20, 1100)).toEqual({ holdUntil: 1250 });
    expect(t.offer(30, 1200)).toEqual({ holdUntil: 1250 });
    expect(t.due(1249)).toBeUndefined();
    expect(t.due(1250)).toBe(30);
    expect(t.holding).toBe(false);
  });

  it('emits at once again once the interval has passed', () => {
    const t = new ProgressThrottle<number>(250);
    t.offer(10, 1000);
    expect(t.offer(20, 1250)).toEqual({ emit: 20 });
    expect(t.offer(30, 1300)).toEqual({ holdUntil: 1500 });
  });

  it('flushes the held report before a terminal event (the last is never dropped)', () => {
    const t = new ProgressThrottle<number>(250);
    t.offer(10, 1000);
    t.offer(100, 1010);
    expect(t.flush(1020)).toBe(100);
    expect(t.flush(1030)).toBeUndefined();
    // the flush counts as an emission for the interval
    expect(t.offer(5, 1100)).toEqual({ holdUntil: 1270 });
  });

  it('never emits two reports within the interval', () => {
    const t = new ProgressThrottle<number>(250);
    const emitted: number[] = [];
    for (let now = 0; now < 2000; now += 7) {
      const o = t.offer(now, now);
      if ('emit' in o) emitted.push(now);
      const d = t.due(now);
      if (d !== undefined) emitted.push(now);
    }
    for (let i = 1; i < emitted.length; i++) expect(emitted[i]! - emitted[i - 1]!).toBeGreaterThanOrEqual(250);
  });
});
