import { isTerminalState, type TaskView } from '@errand/contracts';
import type { ErrandBackend, TaskTypeEntry } from '@errand/mcp';
import type { ErrandClient } from './http.ts';

/** How often the task types are read to notice types going live or offline (HTTP has no push for them). */
const TYPES_POLL_MS = 5_000;

/** Events that change nothing the task view shows. */
const QUIET = new Set(['checkpoint', 'delivered', 'delivery-failed']);

/** A view now, then one after each event that changes it (over the SSE watch), until the task ends. */
async function* follow(client: ErrandClient, id: string, signal: AbortSignal): AsyncGenerator<TaskView> {
  let view = await client.status(id);
  yield view;
  if (isTerminalState(view.state)) return;
  for await (const { event } of client.watch(id, { signal })) {
    if (QUIET.has(event.type) || event.type === 'submitted') continue;
    view = await client.status(id);
    yield view;
    if (isTerminalState(view.state)) return;
  }
  if (signal.aborted) return;
  // the watch ended: the task did; give its final view
  view = await client.status(id);
  if (isTerminalState(view.state)) yield view;
}

/** Poll the task types while someone listens; tell the listeners when the listing differs. */
function typesWatcher(client: ErrandClient): (listener: () => void) => () => void {
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let last: string | undefined;
  const poll = async () => {
    const now = JSON.stringify((await client.taskTypes()).items.map((t) => [t.name, (t as { live?: boolean }).live, t.paramsSchema]));
    if (last !== undefined && now !== last) for (const l of listeners) l();
    last = now;
  };
  return (listener) => {
    listeners.add(listener);
    if (!timer) {
      timer = setInterval(() => void poll().catch(() => undefined), TYPES_POLL_MS);
      timer.unref();
      void poll().catch(() => undefined);
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
        last = undefined;
      }
    };
  };
}

/** The MCP server's backend over the HTTP API (`errand mcp`, and `client.run`). */
export function clientMcpBackend(client: ErrandClient): ErrandBackend {
  return {
    submit: (body) => client.submit(body),
    get: (id) => client.status(id),
    follow: (id, signal) => follow(client, id, signal),
    cancel: (id, opts) => client.cancel(id, opts),
    retry: (id) => client.retry(id),
    list: (query) => client.list(query),
    taskTypes: async () => (await client.taskTypes()).items as TaskTypeEntry[],
    onTypesChange: typesWatcher(client),
  };
}
