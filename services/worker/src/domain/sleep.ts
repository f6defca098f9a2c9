/** The pure part of `demo.sleep`: which steps to run, when to fail. */
export interface SleepPlan {
  steps: number;
  stepMs: number;
  /** steps already done when this attempt begins (from the checkpoint) */
  startStep: number;
}

/** `resume` is the last checkpoint: the number of steps done. Anything else counts as a fresh start. */
export function planSleep(p: { durationMs: number; steps: number }, resume: unknown): SleepPlan {
  const steps = Math.max(1, Math.floor(p.steps));
  const done = typeof resume === 'number' && Number.isFinite(resume) ? Math.floor(resume) : 0;
  return { steps, stepMs: p.durationMs / steps, startStep: Math.min(steps, Math.max(0, done)) };
}

/**
 * With `failAtStep: k`, reaching step k (1-based, before sleeping it) throws
 * in the first `failAttempts` attempts (default: every attempt).
 */
export function failsAt(step: number, attempt: number, failAtStep?: number, failAttempts?: number): boolean {
  if (failAtStep === undefined || step !== failAtStep) return false;
  return failAttempts === undefined || attempt <= failAttempts;
}

export function stepPercent(done: number, steps: number): number {
  return Math.round((done / steps) * 10_000) / 100;
}
