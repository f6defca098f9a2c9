import { describe, expect, it } from 'vitest';
import { humanDuration, humanEta, messageText, summarizeResult, taskNoun } from './text.ts';

const url = 'http://127.0.0.1:8080/v1/tasks/T1/result';

describe('taskNoun', () => {
  it('uses the last segment of the type, or "task" for action-like names', () => {
    expect(taskNoun('demo.report')).toBe('report');
    expect(taskNoun('demo.sleep')).toBe('task');
    expect(taskNoun('demo.noop')).toBe('task');
    expect(taskNoun('acme.sales_summary')).toBe('sales summary');
  });
});

describe('humanEta', () => {
  it('rounds humanely', () => {
    expect(humanEta(3_000)).toBe('a few seconds left');
    expect(humanEta(32_000)).toBe('about 30 seconds left');
    expect(humanEta(70_000)).toBe('about a minute left');
    expect(humanEta(125_000)).toBe('about 2 minutes left');
    expect(humanEta(65 * 60_000)).toBe('about an hour left');
    expect(humanEta(100 * 60_000)).toBe('about 1.5 hours left');
    expect(humanEta(5 * 3_600_000)).toBe('about 5 hours left');
  });
  it('says limits plainly', () => {
    expect(humanDuration(600_000)).toBe('10 minutes');
    expect(humanDuration(90_000)).toBe('90 seconds');
    expect(humanDuration(3_600_000)).toBe('1 hour');
    expect(humanDuration(1_000)).toBe('1 second');
  });
});

describe('messageText', () => {
  it('progress', () => {
    expect(messageText('demo.report', { type: 'progress', percent: 40, etaMs: 120_000 }, url)).toBe(
      'Your report is 40% complete, about 2 minutes left.',
    );
    expect(messageText('demo.sleep', { type: 'progress', percent: 12.6 }, url)).toBe('Your task is 13% complete.');
    expect(messageText('demo.report', { type: 'progress', percent: 50, message: 'day 15 of 30' }, url)).toBe(
      'Your report is 50% complete. (day 15 of 30)',
    );
  });
  it('completed with a short summary, or a link when long', () => {
    expect(messageText('demo.report', { type: 'completed', result: { summary: 'Sales up 4%' } }, url)).toBe(
      'Your report is ready: Sales up 4%',
    );
    expect(messageText('demo.report', { type: 'completed' }, url)).toBe('Your report is ready.');
    const long = messageText('demo.report', { type: 'completed', result: 'x'.repeat(1000) }, url);
    expect(long.length).toBeLessThan(400);
    expect(long).toContain(`Full result: ${url}`);
    expect(messageText('demo.report', { type: 'completed', resultRef: 'obj:r' }, url)).toBe(`Your report is ready. Full result: ${url}`);
  });
  it('cancelled, timed-out, failed, rejected', () => {
    expect(messageText('demo.report', { type: 'cancelled', partial: false }, url)).toBe('Your report was cancelled.');
    expect(messageText('demo.report', { type: 'cancelled', partial: true }, url)).toBe(
      `Your report was cancelled. A partial result is available: ${url}`,
    );
    expect(messageText('demo.report', { type: 'timed-out', timeoutMs: 600_000, percent: 40, partial: false }, url)).toBe(
      'Your report was stopped because it exceeded its time limit of 10 minutes, at 40%.',
    );
    expect(messageText('demo.report', { type: 'failed', message: 'disk full', partial: false }, url)).toBe('Your report failed: disk full.');
    expect(messageText('demo.report', { type: 'failed', message: 'disk full.', partial: true }, url)).toBe(
      `Your report failed: disk full. A partial result is available: ${url}`,
    );
    expect(messageText('demo.report', { type: 'rejected', message: 'queue is full' }, url)).toBe('Your report was not accepted: queue is full.');
  });
});

describe('summarizeResult', () => {
  it('prefers summary fields, else compact JSON, cut at the limit', () => {
    expect(summarizeResult({ title: 'T', rows: [1, 2] }).text).toBe('T');
    expect(summarizeResult({ rows: [1, 2] }).text).toBe('{"rows":[1,2]}');
    expect(summarizeResult(42).text).toBe('42');
    const s = summarizeResult('a'.repeat(50), 10);
    expect(s).toEqual({ text: `${'a'.repeat(9)}…`, cut: true });
  });
});
