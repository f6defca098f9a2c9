import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeJson } from './codec.ts';
import { evolveTask, type TaskRecord } from './task.ts';
import { toView } from './view.ts';

/**
 * A log recorded from a real run (test/record-fixture.ts): the events of
 * today's shape must keep decoding and folding to the same outcome. When an
 * event's shape changes, the old shape stays here and an upcaster makes it
 * read as the new one.
 */
const recorded = readFileSync(new URL('../fixtures/log-v1.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { seq: number; event: unknown });

describe('the recorded log (v1)', () => {
  it('decodes every event', () => {
    for (const { event } of recorded) expect(decodeEvent(encodeJson(event)).ok).toBe(true);
  });

  it('folds to the recorded outcomes', () => {
    const tasks = new Map<string, TaskRecord>();
    for (const { seq, event } of recorded) {
      const d = decodeEvent(encodeJson(event));
      if (!d.ok) continue;
      const r = evolveTask(tasks.get(d.value.taskId), d.value, seq);
      if (r) tasks.set(d.value.taskId, r);
    }
    const outcome = [...tasks.values()]
      .sort((a, b) => a.submitSeq - b.submitSeq)
      .map((r) => {
        const v = toView(r);
        return [r.type, v.state, v.attempt];
      });
    expect(outcome).toEqual([
      ['demo.noop', 'completed', 1],
      ['demo.sleep', 'completed', 2],
      ['demo.sleep', 'timed-out', 1],
      ['demo.report', 'completed', 1],
      ['demo.sleep', 'cancelled', 1],
    ]);
    const retried = [...tasks.values()].find((r) => r.attempt === 2)!;
    expect((retried.result as { resumedFrom: number }).resumedFrom).toBeGreaterThan(0);
    expect(retried.deliveries[0]!.state).toBe('delivered');
  });
});
