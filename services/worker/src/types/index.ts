import type { AnyTaskType } from '../registry.ts';
import { noopType } from './noop.ts';
import { sleepType } from './sleep.ts';
import { reportType } from './report.ts';

export const DEFAULT_REPORT_MS_PER_DAY = 2_000;

/** The built-in types every worker registers (DESIGN.md "Task handlers"). */
export function builtinTypes(opts: { reportMsPerDay?: number } = {}): AnyTaskType[] {
  return [noopType as AnyTaskType, sleepType as AnyTaskType, reportType(opts.reportMsPerDay ?? DEFAULT_REPORT_MS_PER_DAY)];
}

export { noopType, sleepType, reportType };
