import { loadConfig } from '@errand/config';
import { connectNats, createLogger, provision, serverFeatures } from '@errand/nats';
import { startTelemetry } from '@errand/telemetry';
import { buildIntake } from './app.ts';

const log = createLogger('intake');

async function main(): Promise<void> {
  const config = loadConfig();
  const telemetry = startTelemetry('errand-intake');
  const nc = await connectNats({ url: config.NATS_URL, name: 'errand-intake' });
  for (const note of serverFeatures(nc).notes) log.info(note);
  await provision(nc);
  const intake = buildIntake({ config, nc, log });
  await intake.start();
  const address = await intake.app.listen({ host: config.host, port: config.PORT });
  log.info(
    config.devMode
      ? `intake listening on ${address} (development mode: tenant "default", no auth, 127.0.0.1 only)`
      : `intake listening on ${address}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    await intake.stop().catch((err: unknown) => log.error('stop failed', { err }));
    await nc.drain().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log.error('intake failed to start', { err });
  process.exit(1);
});
