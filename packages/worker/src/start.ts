import { loadConfig } from '@errand/config';
import { connectNats, provision } from '@errand/nats';
import { createLogger, type Logger } from '@errand/runtime';
import { buildWorker } from './app.ts';
import type { TaskType } from './registry.ts';

/** What `startWorker` takes (DESIGN.md "Task types and workers"). */
export interface StartWorkerOptions {
  /** the task types this worker serves (only these) */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  types: TaskType<any, any>[];
  /** the NATS server(s), comma-separated (default `NATS_URL`, then `nats://127.0.0.1:4222`); credentials as for the services */
  natsUrl?: string;
  /** the pool of the types that name none in their `defaults.pool` (default `default`) */
  pool?: string;
  /** how many tasks it runs at once (default `ERRAND_WORKER_CONCURRENCY`, 8) */
  concurrency?: number;
  /** where it logs (default: JSON lines on stderr at `LOG_LEVEL`) */
  log?: Logger;
}

/** A started worker. */
export interface RunningWorker {
  /** its id in heartbeats and `started` events */
  readonly workerId: string;
  /** names of the task types it serves */
  readonly types: string[];
  /**
   * Stop pulling, end or hand back the attempts it runs (a handler still
   * running gets its signal and `worker_shutdown`), say in a last heartbeat
   * that it stops (its types go offline at once where no other worker serves
   * them), and close its NATS connection.
   */
  stop(): Promise<void>;
}

/**
 * Start a worker serving `types`. Once the promise resolves the worker runs
 * and its types are live: they are in KV `errand_types` and its first
 * heartbeat is out, so a submit of one of them is accepted. Refuses (throws a
 * `WorkerStartError` naming every problem) a type with a bad name, one whose
 * MCP tool name equals another's, and params naming a property `errand`.
 */
export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const config = loadConfig();
  const log = opts.log ?? createLogger('worker');
  const nc = await connectNats({ url: opts.natsUrl ?? config.NATS_URL, name: 'errand-worker' });
  try {
    await provision(nc, { replicas: config.ERRAND_REPLICAS });
    const worker = buildWorker({
      config,
      nc,
      log,
      types: opts.types,
      ...(opts.pool !== undefined ? { pool: opts.pool } : {}),
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    });
    await worker.start();
    let stopped: Promise<void> | undefined;
    return {
      workerId: worker.workerId,
      types: opts.types.map((t) => t.name),
      stop: () =>
        (stopped ??= (async () => {
          await worker.stop();
          await nc.drain().catch(() => nc.close());
        })()),
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}
