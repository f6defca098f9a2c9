import type { TaskType } from '@errand/worker';
import { noopType } from './noop.ts';
import { sleepType } from './sleep.ts';
import { reportType } from './report.ts';

export const DEFAULT_REPORT_MS_PER_DAY = 2_000;

/** The built-in types the built-in worker serves (DESIGN.md "Task handlers"). */
export function builtinTypes(opts: { reportMsPerDay?: number } = {}): TaskType[] {
  return [noopType, sleepType, reportType(opts.reportMsPerDay ?? DEFAULT_REPORT_MS_PER_DAY)];
}

export { noopType, sleepType, reportType };
