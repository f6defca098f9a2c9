import { runService } from '@errand/runtime';
import { buildScheduler } from './app.ts';

runService('scheduler', async ({ config, nc, log }) => {
  const scheduler = await buildScheduler({ config, nc, log });
  await scheduler.start();
  return {
    stop: () => scheduler.stop(),
    ready: 'scheduler ready',
    fields: { concurrency: config.ERRAND_CONCURRENCY, maxPendingPerUser: config.ERRAND_MAX_PENDING_PER_USER },
  };
});
