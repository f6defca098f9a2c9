import { describe, expect, it } from 'vitest';
import { formatDuration, renderProgress } from './progress.ts';

describe('renderProgress', () => {
  it('shows the bar, percent, message and ETA', () => {
    expect(renderProgress({ percent: 50, message: 'halfway', etaMs: 80_000 }, { width: 10 })).toBe(
      '[█████░░░░░]  50% halfway · ETA 1m 20s',
    );
  });
  it('counts the ETA down from when it was reported, and drops it at 100%', () => {
    expect(renderProgress({ percent: 10, etaMs: 10_000 }, { width: 4, sinceMs: 4_000 })).toBe('[░░░░]  10% · ETA 6s');
    expect(renderProgress({ percent: 100, etaMs: 5_000 }, { width: 4 })).toBe('[████] 100%');
  });
  it('fits the terminal width', () => {
    const line = renderProgress({ percent: 1, message: 'x'.repeat(200) }, { columns: 40 });
    expect(line.length).toBeLessThanOrEqual(39);
  });
});

describe('formatDuration', () => {
  it.each([
    [400, '<1s'],
    [45_000, '45s'],
    [200_000, '3m 20s'],
    [3_720_000, '1h 02m'],
  ])('%i ms is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
