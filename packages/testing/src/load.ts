/** What a steady load saw: the tasks accepted, and how long submits stalled. */
export interface LoadFigures {
  accepted: string[];
  /** submits answered with an error or not at all (retried until accepted) */
  failedTries: number;
  /** the longest a single submit took, retries included (ms) */
  longestSubmitMs: number;
  /** the longest time with no submit accepted (ms) */
  longestPauseMs: number;
}

export interface SteadyLoadOptions {
  /** the intake's base URL (`http://127.0.0.1:port`) */
  url: string;
  total: number;
  /** submits started per second */
  ratePerSec: number;
  /** the submit body of the i-th task */
  body: (i: number) => unknown;
  headers?: Record<string, string>;
  /** at most this many submits in flight (default 20) */
  maxInFlight?: number;
}

/**
 * Submit `total` tasks over HTTP at a steady rate. A submit that fails (503,
 * a refused connection, a timeout) is retried with the same idempotency key
 * until accepted, so a task is never counted twice nor lost by the load
 * itself. `done` resolves when every task was accepted.
 */
export function steadyLoad(o: SteadyLoadOptions): { done: Promise<LoadFigures>; figures: LoadFigures } {
  const f: LoadFigures = { accepted: [], failedTries: 0, longestSubmitMs: 0, longestPauseMs: 0 };
  let lastAccept = Date.now();
  const maxInFlight = o.maxInFlight ?? 20;
  let inFlight = 0;
  const submitOne = async (i: number) => {
    const t0 = Date.now();
    const body = { idempotencyKey: `load-${i}-${t0}`, ...(o.body(i) as object) };
    for (;;) {
      try {
        const res = await fetch(`${o.url}/v1/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...o.headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const json = (await res.json()) as { id?: string };
        if (res.status === 202 && json.id) {
          const now = Date.now();
          f.longestPauseMs = Math.max(f.longestPauseMs, now - lastAccept);
          lastAccept = now;
          f.longestSubmitMs = Math.max(f.longestSubmitMs, now - t0);
          f.accepted.push(json.id);
          return;
        }
      } catch {
        // refused, reset or timed out: try again
      }
      f.failedTries++;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const done = (async () => {
    const started: Promise<void>[] = [];
    const gap = 1_000 / o.ratePerSec;
    const t0 = Date.now();
    for (let i = 0; i < o.total; i++) {
      const due = t0 + i * gap;
      while (Date.now() < due || inFlight >= maxInFlight) await new Promise((r) => setTimeout(r, Math.max(5, due - Date.now())));
      inFlight++;
      started.push(submitOne(i).finally(() => inFlight--));
    }
    await Promise.all(started);
    return f;
  })();
  return { done, figures: f };
}
