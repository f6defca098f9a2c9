import { about, plural, taskNoun } from '@errand/contracts';
/**
 * The readable messages of a task's progress and outcome, as a person in a
 * chat would like to read them. Pure: the result link comes in as an argument.
 */

export { taskNoun };

/** "about 2 minutes left"-style rounding of a remaining time. */
export function humanEta(ms: number): string {
  return `${about(ms)} left`;
}

/** A duration as a limit is said: "10 minutes", "90 seconds", "2 hours". */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120 && s % 60 !== 0) return plural(Math.max(1, s), 'second');
  const min = Math.round(s / 60);
  if (min < 120 && min % 60 !== 0) return plural(min, 'minute');
  const h = Math.round((min / 60) * 10) / 10;
  return plural(h, 'hour');
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

const SUMMARY_KEYS = ['summary', 'title', 'message', 'text', 'headline'];

/**
 * A short summary of a result: a string result itself, a summary-like field
 * of an object, or its compact JSON; cut at `max` characters.
 */
export function summarizeResult(result: unknown, max = 280): { text: string; cut: boolean } {
  let text: string;
  if (result === undefined || result === null) return { text: '', cut: false };
  if (typeof result === 'string') text = result;
  else if (typeof result === 'object' && !Array.isArray(result)) {
    const o = result as Record<string, unknown>;
    const key = SUMMARY_KEYS.find((k) => typeof o[k] === 'string' && (o[k] as string).trim());
    text = key ? (o[key] as string) : JSON.stringify(result);
  } else text = JSON.stringify(result);
  text = text.replace(/\s+/g, ' ').trim();
  if (text.length <= max) return { text, cut: false };
  return { text: `${text.slice(0, max - 1).trimEnd()}…`, cut: true };
}

export type TextInput =
  | { type: 'progress'; percent: number; etaMs?: number; message?: string }
  | { type: 'completed'; result?: unknown; resultRef?: string }
  | { type: 'cancelled'; partial: boolean }
  | { type: 'timed-out'; timeoutMs: number; percent: number; partial: boolean }
  | { type: 'failed'; message: string; partial: boolean }
  | { type: 'rejected'; message: string };

/**
 * The readable message of an event. `resultUrl` is where the full (or
 * partial) result can be read (`GET /v1/tasks/:id/result`).
 */
export function messageText(taskType: string, input: TextInput, resultUrl: string, maxSummary = 280): string {
  const noun = taskNoun(taskType);
  const Noun = `Your ${noun}`;
  const partial = (has: boolean) => (has ? ` A partial result is available: ${resultUrl}` : '');
  switch (input.type) {
    case 'progress': {
      const pct = Math.round(input.percent);
      const eta = input.etaMs !== undefined && pct < 100 ? `, ${humanEta(input.etaMs)}` : '';
      const note = input.message?.trim() ? ` (${input.message.trim()})` : '';
      return `${Noun} is ${pct}% complete${eta}.${note}`;
    }
    case 'completed': {
      if (input.resultRef && input.result === undefined) return `${Noun} is ready. Full result: ${resultUrl}`;
      const s = summarizeResult(input.result, maxSummary);
      if (!s.text) return `${Noun} is ready.`;
      return `${Noun} is ready: ${s.text}${s.cut ? ` Full result: ${resultUrl}` : ''}`;
    }
    case 'cancelled':
      return `${Noun} was cancelled.${partial(input.partial)}`;
    case 'timed-out':
      return (
        `${Noun} was stopped because it exceeded its time limit of ${humanDuration(input.timeoutMs)}, ` +
        `at ${Math.round(input.percent)}%.${partial(input.partial)}`
      );
    case 'failed':
      return `${Noun} failed: ${sentence(summarizeResult(input.message, maxSummary).text || 'unknown error')}${partial(input.partial)}`;
    case 'rejected':
      return `${Noun} was not accepted: ${sentence(input.message)}`;
    default: {
      const never: never = input;
      return never;
    }
  }
}
