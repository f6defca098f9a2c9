import { describe, expect, it } from 'vitest';
import { EtaEstimator } from './eta.ts';

describe('EtaEstimator', () => {
  it('estimates from the start of a fresh attempt', () => {
    const e = new EtaEstimator(true);
    // 10 % per second -> 90 % left = 9 s
    expect(e.update(10, 1000)).toBe(9000);
  });

  it('waits for a second report when the attempt resumed (unknown starting point)', () => {
    const e = new EtaEstimator(false);
    expect(e.update(50, 5000)).toBeUndefined();
    expect(e.update(60, 6000)).toBe(4000);
  });

  it('smooths the rate', () => {
    const e = new EtaEstimator(true, 0.5);
    e.update(10, 1000); // 0.01 %/ms
    const eta = e.update(30, 2000)!; // instant 0.02 -> smoothed 0.015
    expect(eta).toBe(Math.round(70 / 0.015));
  });

  it('counts time without movement against the estimate, never below 0', () => {
    const e = new EtaEstimator(true);
    e.update(50, 1000); // 1 s left
    expect(e.update(50, 1600)).toBe(400);
    expect(e.update(50, 5000)).toBe(0);
  });

  it('says 0 at 100 % and starts over when progress goes back', () => {
    const e = new EtaEstimator(true);
    expect(e.update(100, 10)).toBe(0);
    const f = new EtaEstimator(true);
    f.update(50, 1000);
    expect(f.update(20, 2000)).toBeUndefined();
  });
});
