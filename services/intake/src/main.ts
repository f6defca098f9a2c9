import { beginEmbeddedStore, LaterLog } from './early.ts';

// the embedded store's process starts first: it loads while the intake does (early.ts)
const storeLog = new LaterLog();
let historyOpening = beginEmbeddedStore(storeLog);

const [{ runService }, { buildIntake }] = await Promise.all([import('@errand/runtime'), import('./app.ts')]);

runService('intake', async ({ config, nc, log }) => {
  storeLog.attach(log);
  // only the first start takes it: a start afresh on a new log opens its own
  const opening = historyOpening;
  historyOpening = undefined;
  const intake = await buildIntake({ config, nc, log, ...(opening ? { historyOpening: opening } : {}) });
  await intake.start();
  const address = await intake.app.listen({ host: config.host, port: config.PORT });
  return {
    stop: () => intake.stop(),
    ready: config.devMode
      ? `intake listening on ${address} (development mode: tenant "default", no auth, 127.0.0.1 only)`
      : `intake listening on ${address}`,
  };
});
