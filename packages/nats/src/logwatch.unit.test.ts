import { describe, expect, it } from 'vitest';
import { resetReason, type LogMark } from './logwatch.ts';

const mark = (over: Partial<LogMark> = {}): LogMark => ({
  created: { ERRAND_EVENTS: '2026-01-01T00:00:00Z', ERRAND_WORK: '2026-01-01T00:00:00Z', ERRAND_NOTIFY: '2026-01-01T00:00:00Z' },
  firstSeq: 1,
  lastSeq: 500,
  tasks: 70,
  ...over,
});

describe('resetReason: is this still the log the service knew?', () => {
  it('the same log, grown, is no reset', () => {
    expect(resetReason(mark(), mark({ lastSeq: 900, tasks: 120 }))).toBeUndefined();
  });

  it('a stream created anew is a reset, naming the stream', () => {
    const now = mark({ created: { ...mark().created, ERRAND_EVENTS: '2026-02-01T00:00:00Z' }, lastSeq: 3 });
    expect(resetReason(mark(), now)).toMatch(/ERRAND_EVENTS was created anew/);
  });

  it('a work stream created anew is a reset too (its consumers went with it)', () => {
    expect(resetReason(mark(), mark({ created: { ...mark().created, ERRAND_WORK: '2026-02-01T00:00:00Z' } }))).toMatch(/ERRAND_WORK/);
  });

  it('a last sequence that went backwards is a reset', () => {
    expect(resetReason(mark(), mark({ lastSeq: 10 }))).toMatch(/last sequence went backwards \(10, before 500\)/);
  });

  it('a first sequence that went backwards is a reset', () => {
    expect(resetReason(mark({ firstSeq: 200 }), mark({ firstSeq: 1 }))).toMatch(/first sequence went backwards/);
  });
});
