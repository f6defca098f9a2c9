import { isTerminalEvent, isTerminalState, type ErrandEvent, type SubmitBody, type TaskState, type TaskView } from '@errand/contracts';
import { ErrandClientError, fromErrorBody } from './errors.ts';
import { readSse } from './sse.ts';
import type { RunOutcome } from '@errand/mcp';
import { runTask, waitTask, type RunOptions } from './run.ts';
import type {
  Accepted,
  BatchAnswer,
  CancelOptions,
  ListOptions,
  MetricsSummary,
  TaskList,
  TaskChange,
  TaskResult,
  TaskTypeListing,
  WatchedEvent,
} from './types.ts';

export interface ErrandClientOptions {
  /** default `http://127.0.0.1:8080` */
  baseUrl?: string;
  /** sent as `Authorization: Bearer <apiKey>`; not needed in development mode */
  apiKey?: string;
  /** per-request timeout of the plain (non-streaming) calls, default 30 s */
  timeoutMs?: number;
  /** a fetch to use instead of the global one (tests, proxies) */
  fetch?: typeof fetch;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** resume after this event sequence */
  lastEventId?: string | number;
  /** reconnect (with Last-Event-ID) when the stream breaks before the task ends; default true */
  reconnect?: boolean;
  /** first reconnect delay, doubling up to 10 s; default 500 ms */
  retryDelayMs?: number;
  /** give up after this many reconnects in a row without an event; default 10 */
  maxRetries?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

/** The Errand HTTP API, for agents and programs. Every method throws `ErrandClientError` on failure. */
export class ErrandClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: ErrandClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  submit(body: SubmitBody): Promise<Accepted> {
    return this.call('POST', '/v1/tasks', body);
  }
  /** Submit up to 1,000 tasks in one request; each item is the accepted task or its own error, in order. */
  submitBatch(bodies: SubmitBody[]): Promise<BatchAnswer> {
    return this.call('POST', '/v1/tasks/batch', { tasks: bodies });
  }
  status(id: string): Promise<TaskView> {
    return this.call('GET', `/v1/tasks/${enc(id)}`);
  }
  /** The task view (the same as `status`). */
  get(id: string): Promise<TaskView> {
    return this.status(id);
  }
  /** Resolve with the task's view once it has ended; `timeout` error after `timeoutMs`. */
  wait(id: string, opts: { timeoutMs?: number } = {}): Promise<TaskView> {
    return waitTask(this, id, opts.timeoutMs);
  }
  /**
   * Submit a task and wait at most `budgetMs`: `{done: true, id, state,
   * result?, view}` when it ends within the budget, else at the budget's end
   * `{done: false, id, state, etaMs?, message}`, `message` a sentence for the
   * user ("Your report is running in the background: about 2 minutes; I will
   * tell you when it is ready."), the ETA from the task's progress or the
   * type's observed durations.
   */
  run(type: string, params: unknown, opts: RunOptions): Promise<RunOutcome> {
    return runTask(this, type, params, opts);
  }
  list(query: ListOptions = {}): Promise<TaskList> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) qs.set(k, String(v));
    const q = qs.toString();
    return this.call('GET', `/v1/tasks${q ? `?${q}` : ''}`);
  }
  cancel(id: string, opts: CancelOptions = {}): Promise<Accepted> {
    return this.call('POST', `/v1/tasks/${enc(id)}/cancel`, opts);
  }
  retry(id: string): Promise<Accepted> {
    return this.call('POST', `/v1/tasks/${enc(id)}/retry`, {});
  }
  /** The task's history, oldest first. */
  events(id: string): Promise<ErrandEvent[]> {
    return this.call('GET', `/v1/tasks/${enc(id)}/events`);
  }
  /** The result, or the partial result of a task that did not complete; `not_found` when none. */
  result(id: string): Promise<TaskResult> {
    return this.call('GET', `/v1/tasks/${enc(id)}/result`);
  }
  taskTypes(): Promise<TaskTypeListing> {
    return this.call('GET', '/v1/task-types');
  }
  metrics(): Promise<MetricsSummary> {
    return this.call('GET', '/v1/metrics/summary');
  }
  /** What `memory` deliveries kept: for one user, or for one task. */
  memory(query: { user: string } | { taskId: string }): Promise<unknown> {
    return 'user' in query
      ? this.call('GET', `/v1/memory?user=${enc(query.user)}`)
      : this.call('GET', `/v1/memory/${enc(query.taskId)}`);
  }

  /**
   * The task's history, then its live events until it ends (the server
   * closes the stream after the terminal event), over SSE. When the connection breaks first, it reconnects with
   * `Last-Event-ID` and goes on after the last event it yielded: no event is
   * missed or repeated. Stop early with `break` or the signal.
   */
  async *watch(id: string, opts: WatchOptions = {}): AsyncGenerator<WatchedEvent> {
    let last = opts.lastEventId === undefined ? undefined : String(opts.lastEventId);
    const reconnect = opts.reconnect ?? true;
    const maxRetries = opts.maxRetries ?? 10;
    let baseDelay = opts.retryDelayMs ?? 500;
    let delay = baseDelay;
    let failures = 0;
    let ended = false;
    for (;;) {
      let sawEvent = false;
      let endedCleanly = false;
      try {
        const res = await this.fetchFn(`${this.baseUrl}/v1/tasks/${enc(id)}/events`, {
          headers: { ...this.headers(), accept: 'text/event-stream', ...(last !== undefined ? { 'last-event-id': last } : {}) },
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        if (!res.ok) throw await errorOf(res);
        if (!res.body) throw new ErrandClientError('bad_response', 'the event stream has no body');
        for await (const m of readSse(res.body)) {
          if (m.retry !== undefined) baseDelay = delay = m.retry;
          if (!m.data) continue;
          const event = JSON.parse(m.data) as ErrandEvent;
          if (m.id !== undefined) last = m.id;
          sawEvent = true;
          // the history may hold an earlier end that a retry reopened: the server closes the stream at the real end
          if (isTerminalEvent(event)) ended = true;
          else if (event.type === 'retry-requested') ended = false;
          yield { seq: m.id !== undefined ? Number(m.id) : undefined, event };
        }
        if (ended) return;
        endedCleanly = true;
      } catch (err) {
        if (opts.signal?.aborted) return;
        const e = toClientError(err, this.baseUrl);
        // the server's answer (not_found, unauthorized...) will not change by asking again
        if (!e.retryable || !reconnect || ++failures > maxRetries) throw e;
      }
      if (opts.signal?.aborted || !reconnect) return;
      if (endedCleanly) {
        // the server closes the stream once the task has ended: nothing more will come
        const view = await this.status(id);
        if (isTerminalState(view.state)) return;
      }
      if (sawEvent) {
        failures = 0;
        delay = baseDelay;
      }
      // the stream broke before the task ended (a restarting intake, a proxy): resume after `last`
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, 10_000);
    }
  }

  /**
   * The tenant's task changes, live (`GET /v1/tasks` as SSE): each changed
   * task's view (without `result`), or `resync` when the client fell behind
   * and should load the list again. Ends when `signal` aborts or the stream
   * breaks (load the list again, then call it again).
   */
  async *changes(filter: { state?: TaskState; user?: string; type?: string } = {}, opts: { signal?: AbortSignal } = {}): AsyncGenerator<TaskChange> {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]);
    let res: Response;
    try {
      res = await this.fetchFn(`${this.baseUrl}/v1/tasks${q.size ? `?${q}` : ''}`, {
        headers: { ...this.headers(), accept: 'text/event-stream' },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw toClientError(err, this.baseUrl);
    }
    if (!res.ok) throw await errorOf(res);
    if (!res.body) throw new ErrandClientError('bad_response', 'the change stream has no body');
    try {
      for await (const m of readSse(res.body)) {
        if (m.event === 'resync') yield { kind: 'resync' };
        else if (m.event === 'task' && m.data) yield { kind: 'task', view: JSON.parse(m.data) as TaskView };
      }
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw toClientError(err, this.baseUrl);
    }
  }

  private headers(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.baseUrl}${path}`, {
        method,
        headers: { ...this.headers(), accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw toClientError(err, this.baseUrl);
    }
    if (!res.ok) throw await errorOf(res);
    const text = await res.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      throw new ErrandClientError('bad_response', `${method} ${path}: the answer is not JSON`, { status: res.status, cause: err });
    }
  }
}

const enc = encodeURIComponent;

async function errorOf(res: Response): Promise<ErrandClientError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return (
    fromErrorBody(body, res.status) ??
    new ErrandClientError(res.status >= 500 ? 'unavailable' : 'bad_response', `HTTP ${res.status}: ${text.slice(0, 200)}`, {
      status: res.status,
    })
  );
}

function toClientError(err: unknown, url?: string): ErrandClientError {
  if (err instanceof ErrandClientError) return err;
  const e = err as { name?: string; message?: string };
  if (e?.name === 'TimeoutError') return new ErrandClientError('timeout', 'the request timed out', { cause: err });
  if (err instanceof SyntaxError) return new ErrandClientError('bad_response', `an event is not JSON: ${err.message}`, { cause: err });
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? e?.message ?? String(err);
  return new ErrandClientError('network', `cannot reach Errand${url ? ` at ${url}` : ''}: ${why}`, { cause: err });
}
