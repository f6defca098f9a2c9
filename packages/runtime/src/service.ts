import type { NatsConnection } from '@nats-io/transport-node';
import { loadConfig, type Config } from '@errand/config';
import { startTelemetry } from '@errand/telemetry';
import { connectNats, LogWatch, provision, serverFeatures } from '@errand/nats';
import { createLogger, type Logger } from './logger.ts';

export interface Started {
  /** stops the service's own work (before the connection drains) */
  stop(): Promise<void>;
  /** the line logged once the service is ready, and its fields */
  ready: string;
  fields?: Record<string, unknown>;
}

/**
 * The start-up every service shares (its `main.ts`): read the configuration,
 * start telemetry, connect to NATS (waiting for it), provision the streams and
 * buckets, start, log one line when ready; on SIGINT or SIGTERM stop, drain
 * the connection, flush telemetry and exit 0. A failure to start exits 1.
 */
export function runService(
  name: 'intake' | 'scheduler' | 'worker' | 'notifier',
  start: (deps: { config: Config; nc: NatsConnection; log: Logger }) => Promise<Started>,
): void {
  const log = createLogger(name);
  // a promise rejected with no handler is a bug: say what it was, then end as Node would
  process.on('unhandledRejection', (err) => {
    log.error('unhandled promise rejection', { err });
    process.exit(1);
  });
  const main = async () => {
    const config = loadConfig();
    const telemetry = await startTelemetry(`errand-${name}`);
    const nc = await connectNats({ url: config.NATS_URL, name: `errand-${name}` });
    for (const note of serverFeatures(nc).notes) log.info(note);
    const reprovision = () => provision(nc, { replicas: config.ERRAND_REPLICAS });
    await reprovision();
    let started: Started | undefined;
    // a lost or reset log: the service stops and starts again on the new one (its state belonged to the old)
    const watch = new LogWatch(nc, {
      service: name,
      log,
      dataDir: config.ERRAND_DATA_DIR,
      intervalMs: config.ERRAND_LOG_CHECK_MS,
      reprovision,
      onReset: async () => {
        const old = started;
        started = undefined;
        await old?.stop().catch((err: unknown) => log.warn('unclean stop before starting afresh', { err }));
        for (let delay = 250; !started; delay = Math.min(delay * 2, 5_000)) {
          try {
            started = await start({ config, nc, log });
            log.info(`${started.ready} (afresh, on the new log)`, { nats: nc.getServer(), ...started.fields });
          } catch (err) {
            log.error('could not start afresh on the new log; trying again', { err });
            await new Promise((r) => setTimeout(r, delay));
          }
        }
      },
    });
    await watch.start();
    started = await start({ config, nc, log });
    log.info(started.ready, { nats: nc.getServer(), ...started.fields });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      watch.stop();
      try {
        await started?.stop();
        await nc.drain();
      } catch (err) {
        log.warn('unclean stop', { err });
      }
      await telemetry.shutdown();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  };
  main().catch((err: unknown) => {
    log.error(`${name} failed to start`, { err });
    process.exit(1);
  });
}
