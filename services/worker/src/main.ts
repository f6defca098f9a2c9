import { loadConfig } from '@errand/config';
import { connectNats, createLogger, provision } from '@errand/nats';
import { startTelemetry } from '@errand/telemetry';
import { buildWorker } from './app.ts';

const log = createLogger('worker');

async function main(): Promise<void> {
  const config = loadConfig();
  const telemetry = startTelemetry('errand-worker');
  const nc = await connectNats({ url: config.NATS_URL, name: 'errand-worker' });
  await provision(nc);
  const worker = buildWorker({ config, nc, log });
  await worker.start();
  log.info('worker ready', {
    workerId: worker.workerId,
    pools: config.pools,
    slots: config.ERRAND_WORKER_CONCURRENCY,
    nats: nc.getServer(),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    try {
      await worker.stop();
      await nc.drain();
      await telemetry.shutdown();
    } catch (err) {
      log.warn('unclean stop', { err });
    }
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log.error('worker failed to start', { err });
  process.exit(1);
});
