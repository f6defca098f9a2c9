import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { TaskView } from '@errand/contracts';
import type { RunOutcome } from './budget.ts';
import { outcomeSentence } from './text.ts';

/** Longest result text put in a tool answer; the whole result is always in `structuredContent`. */
const MAX_TEXT = 20_000;

function render(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… (cut; the whole result is in structuredContent)` : text;
}

/** A JSON answer with its readable text (the generic tools). */
export function jsonResult(text: string, value: unknown): CallToolResult {
  const structured = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  return { content: [{ type: 'text', text: `${text}\n${render(value)}` }], structuredContent: structured };
}

/** A refusal or failure as a tool error the model can read and act on. */
export function errorResult(err: { code: string; message: string; details?: unknown }): CallToolResult {
  const details = err.details === undefined ? '' : `\n${render(err.details)}`;
  return { isError: true, content: [{ type: 'text', text: `${err.code}: ${err.message}${details}` }], structuredContent: { error: err } };
}

/** The tool answer of an ended task: its result, or `isError` with the reason. */
export function endedResult(view: TaskView): CallToolResult {
  const head = `${outcomeSentence(view)} (task ${view.id})`;
  if (view.state === 'completed') {
    return {
      content: [{ type: 'text', text: view.result === undefined ? head : `${head}\n${render(view.result)}` }],
      structuredContent: { id: view.id, state: view.state, result: view.result ?? null },
    };
  }
  return {
    isError: true,
    content: [{ type: 'text', text: head }],
    structuredContent: {
      id: view.id,
      state: view.state,
      ...(view.error ? { error: view.error } : {}),
      ...(view.partialResult !== undefined ? { partialResult: view.partialResult } : {}),
    },
  };
}

/** The answer of a plain tool call: the ended task's, or the background handle at the budget's end. */
export function runResult(outcome: RunOutcome): CallToolResult {
  if (outcome.done) return endedResult(outcome.view);
  return {
    content: [
      {
        type: 'text',
        text:
          `${outcome.message} Task id: ${outcome.id}. It continues in the background: ` +
          `errand_task_status {"id": "${outcome.id}"} shows its progress, errand_task_result its result once it is done.`,
      },
    ],
    structuredContent: { id: outcome.id, state: outcome.state, ...(outcome.etaMs !== undefined ? { etaMs: outcome.etaMs } : {}) },
  };
}
