import { runService } from '@errand/runtime';
import { buildWorker } from './app.ts';

runService('worker', async ({ config, nc, log }) => {
  const worker = buildWorker({ config, nc, log });
  await worker.start();
  return {
    stop: () => worker.stop(),
    ready: 'worker ready',
    fields: { workerId: worker.workerId, pools: config.pools, slots: config.ERRAND_WORKER_CONCURRENCY },
  };
});
