/**
 * Words shared by every readable sentence about a task (the notifier's chat
 * messages, the MCP server's answers): what to call the task, and how long
 * "about" a time is. Pure.
 */

/** Type segments that name an action rather than a thing: the task is then just "task". */
const GENERIC = new Set(['sleep', 'noop', 'run', 'exec', 'execute', 'job', 'task', 'do', 'process', 'work', 'wait', 'echo']);

/** The noun of a task type: its last segment (`demo.report` → "report", `demo.sleep` → "task"). */
export function taskNoun(taskType: string): string {
  const last = (taskType.split('.').pop() ?? '').trim().toLowerCase();
  if (!last || GENERIC.has(last)) return 'task';
  return last.replace(/[-_]+/g, ' ');
}

/** "3 runs", "1 hour". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A time rounded the way people say it: "about 2 minutes", "a few seconds", "about an hour". */
export function about(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return 'a few seconds';
  if (s < 55) return `about ${Math.round(s / 5) * 5} seconds`;
  const min = s / 60;
  if (min < 1.5) return 'about a minute';
  if (min < 55) return `about ${Math.round(min)} minutes`;
  const h = min / 60;
  if (h < 1.25) return 'about an hour';
  return `about ${plural(h < 10 ? Math.round(h * 2) / 2 : Math.round(h), 'hour')}`;
}
