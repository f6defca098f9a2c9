import { runService } from '@errand/runtime';
import { buildIntake } from './app.ts';

runService('intake', async ({ config, nc, log }) => {
  const intake = await buildIntake({ config, nc, log });
  await intake.start();
  const address = await intake.app.listen({ host: config.host, port: config.PORT });
  return {
    stop: () => intake.stop(),
    ready: config.devMode
      ? `intake listening on ${address} (development mode: tenant "default", no auth, 127.0.0.1 only)`
      : `intake listening on ${address}`,
  };
});
