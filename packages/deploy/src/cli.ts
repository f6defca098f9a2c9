import { parseArgs } from 'node:util';
import { generate } from './generate.ts';

const USAGE = `usage: pnpm errand-nats-config --tenants acme,globex [--out deploy/] [--creds-dir /run/errand/nats]

Writes a least-privilege NATS server configuration with fresh secrets:
  <out>/nats-server.conf     users (NKey public keys) and their permissions
  <out>/nats/<who>.nk        each service's and tenant's NKey seed (keep secret)
  <out>/nats/api-keys        key=tenant lines for ERRAND_API_KEYS
  <out>/<service>.env        NATS_NKEY (and ERRAND_API_KEYS for the intake) for each service
  <out>/tenant-<t>.env       a tenant's NATS_NKEY, ERRAND_TENANT and ERRAND_API_KEY
--creds-dir is where the services find <out>/nats (as docker compose mounts it: /run/errand/nats).`;

function main(): void {
  const { values } = parseArgs({
    options: {
      tenants: { type: 'string' },
      out: { type: 'string', default: 'deploy' },
      'creds-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.tenants) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const res = generate({
    tenants: values.tenants.split(','),
    out: values.out,
    ...(values['creds-dir'] ? { credsDir: values['creds-dir'] } : {}),
  });
  process.stdout.write(`wrote ${res.files.length} files to ${values.out}:\n  ${res.files.join('\n  ')}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`errand-nats-config: ${(err as Error).message}\n`);
  process.exit(1);
}
