import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nkeys } from '@nats-io/nats-core';
import { SERVICES, servicePermissions, tenantPermissions } from './permissions.ts';
import { renderServerConfig, type NatsUser } from './render.ts';

export interface GenerateOptions {
  tenants: string[];
  /** the folder to write to (e.g. `deploy/`) */
  out: string;
  /** where the services will find the files of `<out>/nats/` (default: that folder; `/run/errand/nats` in docker compose) */
  credsDir?: string;
  now?: Date;
}

export interface Generated {
  /** every file written, relative to `out` */
  files: string[];
  /** API key of each tenant (also in `nats/api-keys` and `tenant-<t>.env`) */
  apiKeys: Record<string, string>;
}

const secret = () => randomBytes(32).toString('base64url');

/**
 * Write a least-privilege NATS configuration for these tenants, with fresh
 * secrets: `nats-server.conf` (public keys and permissions), `nats/<who>.nk`
 * (each user's NKey seed, mode 600), `nats/api-keys` (`key=tenant` lines for
 * ERRAND_API_KEYS), and one env file per service and per tenant naming them.
 */
export function generate(opts: GenerateOptions): Generated {
  const tenants = [...new Set(opts.tenants.map((t) => t.trim()).filter(Boolean))];
  if (tenants.length === 0) throw new Error('name at least one tenant (--tenants acme,globex)');
  const perms = new Map(tenants.map((t) => [t, tenantPermissions(t)])); // refuses a bad name before writing anything
  const out = resolve(opts.out);
  const credsDir = opts.credsDir ?? join(out, 'nats');
  mkdirSync(join(out, 'nats'), { recursive: true, mode: 0o700 });
  const files: string[] = [];
  const write = (name: string, text: string, mode = 0o600) => {
    writeFileSync(join(out, name), text, { mode });
    files.push(name);
  };
  const users: NatsUser[] = [];
  const seedFile = (who: string) => {
    const kp = nkeys.createUser();
    write(`nats/${who}.nk`, `${new TextDecoder().decode(kp.getSeed())}\n`);
    return kp.getPublicKey();
  };

  const apiKeys: Record<string, string> = Object.fromEntries(tenants.map((t) => [t, `ek_${secret()}`]));
  write('nats/api-keys', tenants.map((t) => `${apiKeys[t]}=${t}\n`).join(''));
  for (const role of SERVICES) {
    users.push({ label: `service ${role}`, nkey: seedFile(role), permissions: servicePermissions(role) });
    const env = [`NATS_NKEY=${credsDir}/${role}.nk`, ...(role === 'intake' ? [`ERRAND_API_KEYS=${credsDir}/api-keys`] : [])];
    write(`${role}.env`, `${env.join('\n')}\n`);
  }
  for (const t of tenants) {
    users.push({ label: `tenant ${t}`, nkey: seedFile(`tenant-${t}`), permissions: perms.get(t)! });
    write(`tenant-${t}.env`, `ERRAND_TENANT=${t}\nERRAND_API_KEY=${apiKeys[t]}\nNATS_NKEY=${credsDir}/tenant-${t}.nk\n`);
  }
  write('nats-server.conf', renderServerConfig(users, { tenants, generatedAt: (opts.now ?? new Date()).toISOString() }), 0o644);
  return { files, apiKeys };
}
