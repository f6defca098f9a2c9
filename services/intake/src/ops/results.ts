import { toView, type TaskRecord, type TaskView } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';
import { blobSize, loadBlob } from './blobs.ts';

/** Where the whole result (or partial result) of a task is read. */
export const resultPath = (id: string): string => `/v1/tasks/${encodeURIComponent(id)}/result`;

/** A list item carries a result up to this size; a larger one is linked. */
export const LIST_RESULT_MAX = 4 * 1024;

const PARTIAL_STATES = new Set(['cancelled', 'timed-out', 'failed']);
const encoder = new TextEncoder();

export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value) ?? 'null').length;
}

/**
 * The task view with its result bounded: a result (or partial result) up to
 * `max` bytes of JSON is in the view; a larger one is left out and replaced by
 * `resultUrl` (`GET /v1/tasks/:id/result`) and `resultBytes` (or
 * `partialResultUrl`, `partialResultBytes`), so a status read stays small
 * whatever the task returned. A blob is sized before it is read.
 */
export async function boundedView(ctx: IntakeContext, r: TaskRecord, max: number): Promise<TaskView> {
  const view = toView({ ...r, result: undefined });
  if (r.state === 'completed') {
    if (r.resultRef) {
      const bytes = await blobSize(ctx, r.resultRef);
      if (bytes !== undefined && bytes <= max) setResult(view, await loadBlob(ctx, r.resultRef));
      else Object.assign(view, { resultUrl: resultPath(r.id), ...(bytes !== undefined ? { resultBytes: bytes } : {}) });
    } else if (r.result !== undefined) {
      const bytes = jsonBytes(r.result);
      if (bytes <= max) setResult(view, r.result);
      else Object.assign(view, { resultUrl: resultPath(r.id), resultBytes: bytes });
    }
  }
  if (PARTIAL_STATES.has(r.state) && r.partialRef && !r.discardPartial) {
    const bytes = await blobSize(ctx, r.partialRef);
    if (bytes !== undefined && bytes <= max) {
      const partial = await loadBlob(ctx, r.partialRef);
      if (partial !== undefined) view.partialResult = partial;
    } else if (bytes !== undefined) {
      Object.assign(view, { partialResultUrl: resultPath(r.id), partialResultBytes: bytes });
    }
  }
  return view;
}

/** A list item: no blob is read; an inline result over LIST_RESULT_MAX is linked. */
export function listView(r: TaskRecord): TaskView {
  const view = toView(r);
  if (view.result !== undefined) {
    const bytes = jsonBytes(view.result);
    if (bytes > LIST_RESULT_MAX) {
      delete view.result;
      Object.assign(view, { resultUrl: resultPath(r.id), resultBytes: bytes });
    }
  } else if (r.state === 'completed' && r.resultRef) {
    view.resultUrl = resultPath(r.id);
  }
  return view;
}

function setResult(view: TaskView, value: unknown): void {
  if (value !== undefined) view.result = value;
}
