import { EventLog } from '@errand/nats';
import { runService } from '@errand/runtime';
import { buildNotifier } from './app.ts';

runService('notifier', async ({ config, nc, log: logger }) => {
  const log = new EventLog(nc, (i) => logger.warn('skipping an invalid event', i));
  const notifier = buildNotifier({ config, nc, log, logger });
  await notifier.start();
  return {
    stop: async () => {
      await notifier.stop();
      log.close();
    },
    ready: 'notifier ready',
    fields: { id: notifier.id, active: notifier.active },
  };
});
