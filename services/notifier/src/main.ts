import { loadConfig } from '@errand/config';
import { connectNats, createLogger, EventLog, provision, serverFeatures } from '@errand/nats';
import { startTelemetry } from '@errand/telemetry';
import { buildNotifier } from './app.ts';

const logger = createLogger('notifier');
const config = loadConfig();
const telemetry = startTelemetry('errand-notifier');
const nc = await connectNats({ url: config.NATS_URL, name: 'errand-notifier' });
for (const note of serverFeatures(nc).notes) logger.info(note);
await provision(nc);
const log = new EventLog(nc, (i) => logger.warn('skipping an invalid event', i));
const notifier = buildNotifier({ config, nc, log, logger });
await notifier.start();
logger.info('notifier ready', { id: notifier.id, active: notifier.active, nats: nc.getServer() });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('stopping', { signal });
  try {
    await notifier.stop();
    log.close();
    await nc.drain();
    await telemetry.shutdown();
  } finally {
    process.exit(0);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
