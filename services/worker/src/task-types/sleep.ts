import { defineTaskType, TaskError, z } from '@errand/worker';
import { failsAt, planSleep, stepPercent } from '../domain/sleep.ts';
import { abortableSleep } from './abortable.ts';

const params = z.object({
  durationMs: z.number().int().min(0).max(86_400_000),
  steps: z.number().int().min(1).max(10_000).default(10),
  failAtStep: z.number().int().min(1).optional(),
  failAttempts: z.number().int().min(1).optional(),
  result: z.unknown().optional(),
});

/**
 * Sleeps in equal steps with progress and a checkpoint (steps done) after
 * each; resumes after the last checkpoint; honours the signal between and
 * within steps.
 */
export const sleepType = defineTaskType({
  name: 'demo.sleep',
  description: 'Sleeps durationMs in equal steps, with progress and a checkpoint after each; can fail at a step.',
  params,
  defaults: {},
  run: async (ctx) => {
    const p = ctx.params;
    const plan = planSleep(p, ctx.resume);
    for (let step = plan.startStep + 1; step <= plan.steps; step++) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (failsAt(step, ctx.attempt, p.failAtStep, p.failAttempts)) {
        throw new TaskError('step_failed', `failed on reaching step ${step} (attempt ${ctx.attempt})`, { retryable: true });
      }
      await abortableSleep(plan.stepMs, ctx.signal);
      ctx.progress(stepPercent(step, plan.steps), `step ${step} of ${plan.steps}`);
      await ctx.checkpoint(step);
    }
    return { steps: plan.steps, resumedFrom: plan.startStep, result: p.result ?? null };
  },
});
