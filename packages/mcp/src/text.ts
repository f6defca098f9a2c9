import { about, isTerminalState, plural, taskNoun, type TaskView } from '@errand/contracts';
import type { TaskTypeEntry } from './backend.ts';

/**
 * Readable sentences about a task, as an agent would pass them on to a user
 * ("Your report is 40% complete, about 2 minutes left."). Pure: time comes in.
 */

export { about, taskNoun };

/** The typical duration of a type, for its tool description. */
export function typicalDuration(t: TaskTypeEntry): string {
  const d = t.observedDurationMs;
  const typical = d?.p50 ?? d?.avg;
  if (!d || !d.count || typical === null || typical === undefined) return 'Typical duration: not measured yet.';
  return `Typical duration: ${about(typical)} (median of ${plural(d.count, 'run')}${d.p95 !== null ? `, 95% within ${about(d.p95).replace('about ', '')}` : ''}).`;
}

/**
 * How long the task has left: from its progress (the worker's own ETA, or
 * the pace so far), or before any progress from the type's observed median.
 */
export function estimateEtaMs(view: TaskView, type: TaskTypeEntry | undefined, now: number): number | undefined {
  if (isTerminalState(view.state)) return undefined;
  const pct = view.progress.percent;
  if (pct > 0 && view.progress.etaMs !== null) return Math.max(0, view.progress.etaMs);
  const started = view.startedAt ? Date.parse(view.startedAt) : undefined;
  if (pct > 0 && pct < 100 && started !== undefined) return Math.max(0, ((now - started) * (100 - pct)) / pct);
  const typical = type?.observedDurationMs?.p50 ?? type?.observedDurationMs?.avg;
  if (typical === null || typical === undefined || !type?.observedDurationMs?.count) return undefined;
  return Math.max(1_000, typical - (started !== undefined ? now - started : 0));
}

const sentence = (t: string) => (/[.!?]$/.test(t.trim()) ? t.trim() : `${t.trim()}.`);

/** Where the task stands, as one or two sentences (progress notifications, MCP `statusMessage`). */
export function progressSentence(view: TaskView, etaMs?: number): string {
  const Noun = `Your ${taskNoun(view.type)}`;
  const waiting = view.waitingOn ? ` ${sentence(view.waitingOn.message)}` : '';
  switch (view.state) {
    case 'submitted':
      return `${Noun} is submitted and waits for the scheduler.${waiting}`;
    case 'queued':
      return `${Noun} is queued${view.position ? ` (${view.position} ahead)` : ''}.${waiting}`;
    case 'dispatched':
      return `${Noun} is starting.`;
    case 'running': {
      const pct = Math.round(view.progress.percent);
      const eta = etaMs !== undefined ? `, ${about(etaMs)} left` : '';
      const note = view.progress.message?.trim() ? ` (${view.progress.message.trim()})` : '';
      return pct > 0 ? `${Noun} is ${pct}% complete${eta}.${note}` : `${Noun} is running${eta}.${note}`;
    }
    case 'retrying':
      return `${Noun} failed and will be tried again${view.error ? `: ${sentence(view.error.message)}` : '.'}${waiting}`;
    default:
      return outcomeSentence(view);
  }
}

/** How a task ended. */
export function outcomeSentence(view: TaskView): string {
  const Noun = `Your ${taskNoun(view.type)}`;
  const why = view.error ? `: ${sentence(view.error.message)}` : '.';
  const partial = view.partialResult !== undefined ? ' A partial result is kept.' : '';
  switch (view.state) {
    case 'completed':
      return `${Noun} is ready.`;
    case 'failed':
      return `${Noun} failed${why}${partial}`;
    case 'cancelled':
      return `${Noun} was cancelled.${partial}`;
    case 'timed-out':
      return `${Noun} was stopped because it exceeded its time limit.${partial}`;
    case 'rejected':
      return `${Noun} was not accepted${why}`;
    default:
      return progressSentence(view);
  }
}

/** "Your report is running in the background: about 2 minutes; I will tell you when it is ready." */
export function backgroundMessage(view: TaskView, etaMs: number | undefined): string {
  const where = view.state === 'running' || view.state === 'dispatched' ? 'is running in the background' : 'will run in the background';
  return `Your ${taskNoun(view.type)} ${where}${etaMs !== undefined ? `: ${about(etaMs)}` : ''}; I will tell you when it is ready.`;
}
