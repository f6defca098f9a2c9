import { describe, expect, it } from 'vitest';
import type { TaskView } from '@errand/contracts';
import { about, backgroundMessage, estimateEtaMs, progressSentence, typicalDuration } from './text.ts';
import { mcpStatus, toMcpTask } from './tasks.ts';
import { toolsSignature, typeTool } from './tools.ts';

const view = (over: Partial<TaskView> = {}): TaskView => ({
  id: 'T1',
  type: 'demo.report',
  tenant: 'acme',
  user: 'u',
  priority: 5,
  state: 'running',
  progress: { percent: 0, message: null, etaMs: null },
  attempt: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  queuedAt: '2026-01-01T00:00:00.100Z',
  startedAt: '2026-01-01T00:00:01.000Z',
  finishedAt: null,
  waitMs: 1000,
  runMs: null,
  deliveries: [],
  ...over,
});
const report = { name: 'demo.report', paramsSchema: { type: 'object', properties: { days: { type: 'integer' } } } };

describe('sentences', () => {
  it('says how long, roughly', () => {
    expect(about(3_000)).toBe('a few seconds');
    expect(about(125_000)).toBe('about 2 minutes');
    expect(about(70 * 60_000)).toBe('about an hour');
  });

  it('tells the user the work goes on in the background', () => {
    expect(backgroundMessage(view(), 120_000)).toBe('Your report is running in the background: about 2 minutes; I will tell you when it is ready.');
    expect(backgroundMessage(view({ state: 'queued', type: 'demo.sleep' }), undefined)).toBe('Your task will run in the background; I will tell you when it is ready.');
  });

  it('describes progress and waiting', () => {
    expect(progressSentence(view({ progress: { percent: 40, message: 'day 3', etaMs: 120_000 } }), 120_000)).toBe(
      'Your report is 40% complete, about 2 minutes left. (day 3)',
    );
    expect(progressSentence(view({ state: 'queued', position: 3, waitingOn: { reason: 'priority', ahead: 3, message: '3 tasks ahead' } }))).toBe(
      'Your report is queued (3 ahead). 3 tasks ahead.',
    );
  });

  it('describes the typical duration of a type, or that it is not measured yet', () => {
    expect(typicalDuration(report)).toBe('Typical duration: not measured yet.');
    expect(typicalDuration({ ...report, observedDurationMs: { count: 4, avg: 60_000, p50: 58_000, p95: 90_000 } })).toBe(
      'Typical duration: about a minute (median of 4 runs, 95% within 2 minutes).',
    );
  });
});

describe('ETA', () => {
  const now = Date.parse('2026-01-01T00:00:11.000Z');
  it("takes the worker's own ETA first", () => {
    expect(estimateEtaMs(view({ progress: { percent: 50, message: null, etaMs: 7_000 } }), undefined, now)).toBe(7_000);
  });
  it('extrapolates the pace without one', () => {
    expect(estimateEtaMs(view({ progress: { percent: 25, message: null, etaMs: null } }), undefined, now)).toBe(30_000);
  });
  it("uses the type's observed median before any progress, less the time already run", () => {
    const t = { ...report, observedDurationMs: { count: 2, avg: 40_000, p50: 30_000, p95: 50_000 } };
    expect(estimateEtaMs(view(), t, now)).toBe(20_000);
    expect(estimateEtaMs(view(), report, now)).toBeUndefined();
    expect(estimateEtaMs(view({ state: 'completed' }), t, now)).toBeUndefined();
  });
});

describe('Errand tasks as MCP tasks', () => {
  it('maps every state per DESIGN.md', () => {
    for (const s of ['submitted', 'queued', 'dispatched', 'running', 'retrying'] as const) expect(mcpStatus(s)).toBe('working');
    expect(mcpStatus('completed')).toBe('completed');
    expect(mcpStatus('cancelled')).toBe('cancelled');
    for (const s of ['failed', 'timed-out', 'rejected'] as const) expect(mcpStatus(s)).toBe('failed');
  });

  it('keeps the Errand id, the progress sentence and the retention as ttl', () => {
    const t = toMcpTask(view({ progress: { percent: 10, message: null, etaMs: 9_000 } }), 30 * 86_400_000);
    expect(t).toMatchObject({ taskId: 'T1', status: 'working', ttl: 2_592_000_000, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(t.statusMessage).toBe('Your report is 10% complete, a few seconds left.');
  });
});

describe('type tools', () => {
  it('names the tool by the type token and adds the errand property', () => {
    const tool = typeTool({ ...report, paramsSchema: { ...report.paramsSchema, additionalProperties: false } }, 15_000);
    expect(tool.name).toBe('demo_report');
    expect(tool.execution).toEqual({ taskSupport: 'optional' });
    expect(Object.keys(tool.inputSchema.properties!)).toEqual(['days', 'errand']);
    expect((tool.inputSchema.properties!.errand as { properties: object }).properties).toHaveProperty('budgetMs');
  });

  it('changes its signature when a type goes offline or changes its schema, not when its stats do', () => {
    const a = toolsSignature([report]);
    expect(toolsSignature([{ ...report, observedDurationMs: { count: 1, avg: 1, p50: 1, p95: 1 } }])).toBe(a);
    expect(toolsSignature([{ ...report, live: false }])).not.toBe(a);
    expect(toolsSignature([{ ...report, paramsSchema: {} }])).not.toBe(a);
  });
});
