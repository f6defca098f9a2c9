import { loadConfig } from '@errand/config';
import { connectNats, createLogger, provision, serverFeatures } from '@errand/nats';
import { startTelemetry } from '@errand/telemetry';
import { buildScheduler } from './app.ts';

const log = createLogger('scheduler');
const config = loadConfig();
const telemetry = startTelemetry('errand-scheduler');
const nc = await connectNats({ url: config.NATS_URL, name: 'errand-scheduler' });
for (const note of serverFeatures(nc).notes) log.info(note);
await provision(nc);
const scheduler = await buildScheduler({ config, nc, log });
await scheduler.start();
log.info('scheduler ready', { concurrency: config.ERRAND_CONCURRENCY, maxPendingPerUser: config.ERRAND_MAX_PENDING_PER_USER });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info('stopping', { signal });
  await scheduler.stop();
  await nc.drain().catch(() => undefined);
  await telemetry.shutdown().catch(() => undefined);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
