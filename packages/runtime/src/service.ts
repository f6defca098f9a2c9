import type { NatsConnection } from '@nats-io/transport-node';
import { loadConfig, type Config } from '@errand/config';
import { startTelemetry } from '@errand/telemetry';
import { connectNats, provision, serverFeatures } from '@errand/nats';
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
    const telemetry = startTelemetry(`errand-${name}`);
    const nc = await connectNats({ url: config.NATS_URL, name: `errand-${name}` });
    for (const note of serverFeatures(nc).notes) log.info(note);
    await provision(nc);
    const started = await start({ config, nc, log });
    log.info(started.ready, { nats: nc.getServer(), ...started.fields });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      try {
        await started.stop();
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
