import { isTerminalEvent, toView, type ErrandEvent, type TaskRecord, type TaskView } from '@errand/contracts';
import { messageText, type TextInput } from './text.ts';

/** `GET /v1/tasks/:id/result` under the public base URL. */
export function resultUrlOf(publicUrl: string, taskId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/tasks/${encodeURIComponent(taskId)}/result`;
}

/** The text input of an event, or `undefined` for events that are not delivered. */
export function textInputOf(e: ErrandEvent, r: TaskRecord): TextInput | undefined {
  switch (e.type) {
    case 'progress':
      return { type: 'progress', percent: e.percent, ...(e.etaMs !== undefined ? { etaMs: e.etaMs } : {}), ...(e.message ? { message: e.message } : {}) };
    case 'completed':
      return { type: 'completed', result: e.result, ...(e.resultRef ? { resultRef: e.resultRef } : {}) };
    case 'cancelled':
      return { type: 'cancelled', partial: Boolean(e.partial) };
    case 'timed-out':
      return { type: 'timed-out', timeoutMs: e.timeoutMs, percent: r.progress.percent, partial: Boolean(e.partial) };
    case 'failed':
      return { type: 'failed', message: e.error.message, partial: Boolean(r.partialRef) };
    case 'rejected':
      return { type: 'rejected', message: e.message };
    default:
      return undefined;
  }
}

export interface Message {
  view: TaskView;
  text: string;
  /** the value a `memory` target keeps (terminal events only) */
  memory?: Record<string, unknown>;
}

/**
 * The message of one delivered event: the task view at that moment (the
 * record folded up to and including the event), the readable text, and for a
 * final event the memory value.
 */
export function buildMessage(
  r: TaskRecord,
  e: ErrandEvent,
  opts: { publicUrl: string; partialResult?: unknown },
): Message {
  const resultUrl = resultUrlOf(opts.publicUrl, r.id);
  const view = toView(r, opts.partialResult !== undefined ? { partialResult: opts.partialResult } : {});
  const input = textInputOf(e, r);
  const text = input ? messageText(r.type, input, resultUrl) : '';
  if (!isTerminalEvent(e)) return { view, text };
  const memory: Record<string, unknown> = {
    taskId: r.id,
    type: r.type,
    user: r.user,
    state: r.state,
    at: e.at,
    text,
    ...(view.result !== undefined ? { result: view.result } : {}),
    ...(r.resultRef ? { resultUrl } : {}),
    ...(opts.partialResult !== undefined ? { partialResult: opts.partialResult } : {}),
    ...(r.partialRef && opts.partialResult === undefined ? { partialResultUrl: resultUrl } : {}),
    ...(r.metadata ? { metadata: r.metadata } : {}),
  };
  return { view, text, memory };
}
