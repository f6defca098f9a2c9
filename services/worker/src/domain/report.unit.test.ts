import { describe, expect, it } from 'vitest';
import { buildReport, dayMessage, reportRow, reportStart, seedOf } from './report.ts';

const from = Date.UTC(2025, 0, 1);

describe('demo.report document', () => {
  it('generates the same figures for the same task and day (a resumed report is the same report)', () => {
    expect(reportRow(seedOf('T1'), 4, from)).toEqual(reportRow(seedOf('T1'), 4, from));
    expect(reportRow(seedOf('T1'), 4, from)).not.toEqual(reportRow(seedOf('T2'), 4, from));
  });
  it('dates the rows day by day', () => {
    expect(reportRow(1, 0, from).date).toBe('2025-01-01');
    expect(reportRow(1, 31, from).date).toBe('2025-02-01');
    expect(reportStart(Date.UTC(2025, 0, 31, 15), 30)).toBe(from);
  });
  it('totals the rows and writes a summary', () => {
    const rows = [0, 1, 2, 3].map((i) => reportRow(7, i, from));
    const doc = buildReport(rows);
    expect(doc.totals.orders).toBe(rows.reduce((s, r) => s + r.orders, 0));
    expect(doc.totals.visitors).toBe(rows.reduce((s, r) => s + r.visitors, 0));
    expect(doc.period).toEqual({ from: '2025-01-01', to: '2025-01-04', days: 4 });
    expect(doc.summary).toContain('Over 4 days');
    expect(rows.map((r) => r.revenue)).toContain(doc.best.revenue);
    expect(dayMessage(rows[0]!, 4)).toMatch(/^Day 1 of 4 \(2025-01-01\): [\d,]+ orders, \$[\d,.]+ revenue$/);
  });
});
