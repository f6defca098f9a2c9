import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_SCHEDULE_MS as DEFAULT_SCHEDULE_MS } from '@errand/config';
import { backoffMs, classifyStatus, nextDelay, parseRetryAfter } from './retry.ts';

describe('schedule', () => {
  it('backs off with ±20 % jitter, the first retry within 5 s, and ends', () => {
    expect(backoffMs(DEFAULT_SCHEDULE_MS, 2, 0)).toBe(800);
    expect(backoffMs(DEFAULT_SCHEDULE_MS, 2, 0.999)).toBeLessThanOrEqual(1_200);
    expect(backoffMs(DEFAULT_SCHEDULE_MS, 3, 0.5)).toBe(5_000);
    expect(backoffMs(DEFAULT_SCHEDULE_MS, 6, 0.5)).toBe(600_000);
    expect(backoffMs(DEFAULT_SCHEDULE_MS, 7, 0.5)).toBeUndefined();
    for (let i = 2; i <= 6; i++) expect(backoffMs(DEFAULT_SCHEDULE_MS, i, 0.5)!).toBeGreaterThan(backoffMs(DEFAULT_SCHEDULE_MS, i - 1, 0.5) ?? 0);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('1', now)).toBe(1_000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
  });
});

describe('classifyStatus', () => {
  const now = 0;
  it('maps answers to verdicts', () => {
    expect(classifyStatus(200, undefined, now)).toEqual({ kind: 'ok' });
    expect(classifyStatus(204, undefined, now)).toEqual({ kind: 'ok' });
    expect(classifyStatus(500, undefined, now).kind).toBe('retry');
    expect(classifyStatus(408, undefined, now).kind).toBe('retry');
    expect(classifyStatus(429, '2', now)).toEqual({ kind: 'retry', error: 'HTTP 429', retryAfterMs: 2_000 });
    expect(classifyStatus(503, '3', now)).toEqual({ kind: 'retry', error: 'HTTP 503', retryAfterMs: 3_000 });
    expect(classifyStatus(502, '3', now)).toEqual({ kind: 'retry', error: 'HTTP 502' });
    expect(classifyStatus(410, undefined, now).kind).toBe('gone');
    expect(classifyStatus(404, undefined, now)).toEqual({ kind: 'fail', error: 'HTTP 404' });
    expect(classifyStatus(302, undefined, now).kind).toBe('fail');
  });
  it('lets Retry-After replace the scheduled delay, never add tries', () => {
    expect(nextDelay([100, 200], { kind: 'retry', error: 'x', retryAfterMs: 1_000 }, 1, 0.5)).toBe(1_000);
    expect(nextDelay([100, 200], { kind: 'retry', error: 'x' }, 2, 0.5)).toBe(200);
    expect(nextDelay([100, 200], { kind: 'retry', error: 'x', retryAfterMs: 1 }, 3, 0.5)).toBeUndefined();
  });
});
