import { runService } from '@errand/runtime';
import { startWorker } from '@errand/worker';
import { builtinTypes } from './task-types/index.ts';

// The built-in worker is a user of @errand/worker like any other: it serves
// demo.noop, demo.sleep and demo.report on the first pool of ERRAND_WORKER_POOLS.
runService('worker', async ({ config, log }) => {
  const pool = config.pools[0];
  if (config.pools.length > 1) log.warn('the built-in worker serves its types on one pool: the first of ERRAND_WORKER_POOLS', { pool, ignored: config.pools.slice(1) });
  const worker = await startWorker({
    types: builtinTypes({ reportMsPerDay: config.ERRAND_DEMO_REPORT_MS_PER_DAY }),
    natsUrl: config.NATS_URL,
    concurrency: config.ERRAND_WORKER_CONCURRENCY,
    log,
    ...(pool ? { pool } : {}),
  });
  return {
    stop: () => worker.stop(),
    ready: 'worker ready',
    fields: { workerId: worker.workerId, pool: pool ?? 'default', types: worker.types, slots: config.ERRAND_WORKER_CONCURRENCY },
  };
});
