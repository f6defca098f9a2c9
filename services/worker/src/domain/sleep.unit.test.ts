import { describe, expect, it } from 'vitest';
import { failsAt, planSleep, stepPercent } from './sleep.ts';

describe('demo.sleep plan', () => {
  it('splits the duration into equal steps', () => {
    expect(planSleep({ durationMs: 100, steps: 4 }, undefined)).toEqual({ steps: 4, stepMs: 25, startStep: 0 });
  });
  it('resumes after the last checkpoint (steps done), clamped', () => {
    expect(planSleep({ durationMs: 100, steps: 4 }, 3).startStep).toBe(3);
    expect(planSleep({ durationMs: 100, steps: 4 }, 9).startStep).toBe(4);
    expect(planSleep({ durationMs: 100, steps: 4 }, -2).startStep).toBe(0);
    expect(planSleep({ durationMs: 100, steps: 4 }, 'x').startStep).toBe(0);
  });
  it('fails on reaching failAtStep in the first failAttempts attempts', () => {
    expect(failsAt(3, 1, 3)).toBe(true);
    expect(failsAt(3, 7, 3)).toBe(true); // default: every attempt
    expect(failsAt(2, 1, 3)).toBe(false);
    expect(failsAt(3, 2, 3, 1)).toBe(false);
    expect(failsAt(3, 1, 3, 1)).toBe(true);
    expect(failsAt(3, 1)).toBe(false);
  });
  it('reports percent per step', () => {
    expect(stepPercent(1, 3)).toBe(33.33);
    expect(stepPercent(3, 3)).toBe(100);
  });
});
