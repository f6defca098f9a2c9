import { connect, errors, RequestError, TimeoutError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { clientEnv, clientNatsSettings, natsConnectOptions } from '@errand/config';
import { isTerminalEvent, subjects, type ApiVerb, type ErrandEvent, type SubmitBody, type TaskView } from '@errand/contracts';
import { ErrandClientError, fromErrorBody } from './errors.ts';
import type { Accepted, BatchAnswer, CancelOptions, ListOptions, TaskList, WatchedEvent } from './types.ts';

export interface ErrandNatsClientOptions {
  /** the tenant whose `errand.api.<tenant>.*` subjects this client uses (default ERRAND_TENANT, then `default`, the tenant of development mode) */
  tenant?: string;
  /** an open connection (the caller closes it) ... */
  nc?: NatsConnection;
  /**
   * ... or servers to connect to, default NATS_URL or nats://127.0.0.1:4222;
   * credentials and TLS come from NATS_USER + NATS_PASSWORD, NATS_TOKEN,
   * NATS_NKEY, NATS_CREDS, NATS_CA (+ NATS_CERT, NATS_KEY) or the URL
   */
  servers?: string | string[];
  /** request timeout, default 10 s */
  timeoutMs?: number;
}

const decoder = new TextDecoder();

/** A request that got no answer in time, told by the client's error class (never by the message). */
const isTimeout = (err: unknown) => err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError);
const encoder = new TextEncoder();

/**
 * The Errand API over NATS request-reply (`errand.api.<tenant>.<verb>`), and
 * watching a task by subscribing to its event subject. Use `ErrandNatsClient.connect`.
 */
export class ErrandNatsClient {
  readonly tenant: string;
  private constructor(
    readonly nc: NatsConnection,
    opts: { tenant: string; timeoutMs: number; owned: boolean },
  ) {
    this.tenant = opts.tenant;
    this.timeoutMs = opts.timeoutMs;
    this.owned = opts.owned;
  }
  private readonly timeoutMs: number;
  private readonly owned: boolean;

  static async connect(opts: ErrandNatsClientOptions = {}): Promise<ErrandNatsClient> {
    const tenant = opts.tenant ?? clientEnv().ERRAND_TENANT;
    const nc = opts.nc ?? (await ErrandNatsClient.open(tenant, opts.servers));
    return new ErrandNatsClient(nc, { tenant, timeoutMs: opts.timeoutMs ?? 10_000, owned: !opts.nc });
  }

  private static async open(tenant: string, servers: string | string[] | undefined): Promise<NatsConnection> {
    try {
      // replies come to `_INBOX.<tenant>.>`: the one inbox a tenant's NATS user may subscribe to
      return await connect({ ...natsConnectOptions(clientNatsSettings(servers)), name: 'errand-client', inboxPrefix: `_INBOX.${tenant}` });
    } catch (err) {
      // refused credentials are not worth retrying; an unreachable server is
      const refused = err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError;
      throw new ErrandClientError(refused ? 'unauthorized' : 'unavailable', `cannot connect to NATS: ${(err as Error).message}`, { cause: err });
    }
  }

  submit(body: SubmitBody): Promise<Accepted> {
    return this.request('submit', body);
  }
  /** Submit up to 1,000 tasks in one request; each item is the accepted task or its own error, in order. */
  submitBatch(bodies: SubmitBody[]): Promise<BatchAnswer> {
    return this.request('submit-batch', { tasks: bodies });
  }
  status(id: string): Promise<TaskView> {
    return this.request('status', { id });
  }
  list(query: ListOptions = {}): Promise<TaskList> {
    return this.request('list', query);
  }
  cancel(id: string, opts: CancelOptions = {}): Promise<Accepted> {
    return this.request('cancel', { id, ...opts });
  }
  retry(id: string): Promise<Accepted> {
    return this.request('retry', { id });
  }
  history(id: string): Promise<ErrandEvent[]> {
    return this.request('history', { id });
  }

  /**
   * The task's history, then its live events until it ends. It subscribes to
   * `errand.events.<tenant>.<id>` first and reads the history second, so no
   * event falls in between; events seen twice are given once. Core NATS has
   * no replay: a live event published while this connection is down is
   * missed (use the HTTP watch, which resumes, where that matters).
   */
  async *watch(id: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<WatchedEvent> {
    const sub: Subscription = this.nc.subscribe(subjects.event(this.tenant, id));
    const stop = () => sub.unsubscribe();
    opts.signal?.addEventListener('abort', stop, { once: true });
    const seen = new Set<string>();
    try {
      let ended = false;
      for (const event of await this.history(id)) {
        seen.add(JSON.stringify(event));
        // deliveries may follow the terminal event; only a retry reopens the task
        if (isTerminalEvent(event)) ended = true;
        else if (event.type === 'retry-requested') ended = false;
        yield { seq: undefined, event };
      }
      if (ended) return;
      for await (const m of sub) {
        const text = decoder.decode(m.data);
        let event: ErrandEvent;
        try {
          event = JSON.parse(text) as ErrandEvent;
        } catch {
          continue; // not an event: nothing a watcher can use
        }
        const key = JSON.stringify(event);
        if (seen.has(key)) continue;
        seen.add(key);
        yield { seq: undefined, event };
        if (isTerminalEvent(event)) return;
      }
    } finally {
      opts.signal?.removeEventListener('abort', stop);
      if (!sub.isClosed()) sub.unsubscribe();
    }
  }

  /** Close the connection, when this client opened it. */
  async close(): Promise<void> {
    if (this.owned) await this.nc.close();
  }

  private async request<T>(verb: ApiVerb, body: unknown): Promise<T> {
    let text: string;
    try {
      const m = await this.nc.request(subjects.api(this.tenant, verb), encoder.encode(JSON.stringify(body)), {
        timeout: this.timeoutMs,
      });
      text = decoder.decode(m.data);
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      const code = isTimeout(err) ? 'timeout' : 'unavailable';
      throw new ErrandClientError(code, `errand.api.${this.tenant}.${verb}: ${msg}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ErrandClientError('bad_response', `errand.api.${this.tenant}.${verb}: the reply is not JSON`, { cause: err });
    }
    const e = fromErrorBody(parsed);
    if (e) throw e;
    return parsed as T;
  }
}
