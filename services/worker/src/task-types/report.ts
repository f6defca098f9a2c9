import { defineTaskType, z, type TaskType } from '@errand/worker';
import { buildReport, dayMessage, reportRow, reportStart, seedOf, type ReportRow } from '../domain/report.ts';
import { abortableSleep } from './abortable.ts';

const params = z.object({ days: z.number().int().min(1).max(365) });
const checkpointSchema = z.object({ fromMs: z.number(), rows: z.array(z.custom<ReportRow>()) });

/**
 * A simulated sales report: about `msPerDay` per day (2 s by default), a
 * progress message and a checkpoint per day, and a real document at the end.
 */
export function reportType(msPerDay: number): TaskType {
  return defineTaskType({
    name: 'demo.report',
    description: 'A simulated daily sales report over `days` days (about 2 s per day), with totals and a summary.',
    params,
    defaults: { timeoutMs: 1_800_000 },
    run: async (ctx) => {
      const { days } = ctx.params;
      const resumed = checkpointSchema.safeParse(ctx.resume);
      const state = resumed.success ? resumed.data : { fromMs: reportStart(Date.now(), days), rows: [] as ReportRow[] };
      const seed = seedOf(ctx.taskId);
      for (let i = state.rows.length; i < days; i++) {
        await abortableSleep(msPerDay, ctx.signal);
        const row = reportRow(seed, i, state.fromMs);
        state.rows.push(row);
        ctx.progress(Math.round(((i + 1) / days) * 10_000) / 100, dayMessage(row, days));
        await ctx.checkpoint(state);
      }
      return buildReport(state.rows);
    },
  });
}
