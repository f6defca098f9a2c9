import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nkeys } from '@nats-io/nats-core';
import { parseApiKeys } from '@errand/config';
import { generate } from './generate.ts';
import { servicePermissions, tenantPermissions } from './permissions.ts';

const dir = mkdtempSync(join(tmpdir(), 'errand-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('errand-nats-config', () => {
  const first = generate({ tenants: ['acme', 'globex', 'acme'], out: join(dir, 'a') });
  const conf = readFileSync(join(dir, 'a', 'nats-server.conf'), 'utf8');

  it('writes a configuration nats-server accepts', () => {
    expect(execFileSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-c', join(dir, 'a', 'nats-server.conf'), '-t'], { encoding: 'utf8', stdio: 'pipe' }).toString()).toBeDefined();
  });

  it('one NKey user per service and tenant: public keys in the configuration, seeds private', () => {
    for (const who of ['intake', 'scheduler', 'worker', 'notifier', 'tenant-acme', 'tenant-globex']) {
      const file = join(dir, 'a', 'nats', `${who}.nk`);
      expect(statSync(file).mode & 0o077).toBe(0);
      const kp = nkeys.fromSeed(new TextEncoder().encode(readFileSync(file, 'utf8').trim()));
      expect(conf).toContain(kp.getPublicKey());
      expect(conf).not.toContain(readFileSync(file, 'utf8').trim());
    }
    expect(conf).not.toMatch(/no_auth_user|password/);
  });

  it('API keys for ERRAND_API_KEYS, one per tenant (a repeated name once), and env files naming the files', () => {
    const keys = parseApiKeys(join(dir, 'a', 'nats', 'api-keys'));
    expect([...keys.values()].sort()).toEqual(['acme', 'globex']);
    expect(keys.get(first.apiKeys.acme!)).toBe('acme');
    expect(readFileSync(join(dir, 'a', 'intake.env'), 'utf8')).toContain(`ERRAND_API_KEYS=${join(dir, 'a', 'nats')}/api-keys`);
    expect(readFileSync(join(dir, 'a', 'tenant-acme.env'), 'utf8')).toMatch(/^ERRAND_TENANT=acme\nERRAND_API_KEY=ek_/);
  });

  it('fresh secrets on every run, nothing hard-coded', () => {
    const again = generate({ tenants: ['acme'], out: join(dir, 'b'), credsDir: '/run/errand/nats' });
    expect(again.apiKeys.acme).not.toBe(first.apiKeys.acme);
    expect(readFileSync(join(dir, 'b', 'nats', 'worker.nk'), 'utf8')).not.toBe(readFileSync(join(dir, 'a', 'nats', 'worker.nk'), 'utf8'));
    expect(readFileSync(join(dir, 'b', 'worker.env'), 'utf8')).toBe('NATS_NKEY=/run/errand/nats/worker.nk\n');
  });

  it('refuses a bad or reserved tenant name before writing anything', () => {
    expect(() => generate({ tenants: ['a.b'], out: join(dir, 'c') })).toThrow(/not a valid tenant/);
    expect(() => generate({ tenants: ['errand'], out: join(dir, 'c') })).toThrow(/reserved/);
    expect(() => statSync(join(dir, 'c'))).toThrow();
  });
});

describe('permissions', () => {
  it('a tenant publishes only on its own API and reads only its own subjects', () => {
    expect(tenantPermissions('acme')).toEqual({
      publish: ['errand.api.acme.>'],
      subscribe: ['errand.events.acme.>', 'errand.notify.acme.>', '_INBOX.acme.>'],
      allowResponses: false,
    });
  });

  it('only the scheduler publishes work; only the notifier notify deliveries; the worker reads no secrets', () => {
    const pubs = (r: 'intake' | 'scheduler' | 'worker' | 'notifier') => servicePermissions(r).publish;
    expect((['intake', 'worker', 'notifier'] as const).some((r) => pubs(r).includes('errand.work.>'))).toBe(false);
    expect(pubs('scheduler')).toContain('errand.work.>');
    expect((['intake', 'scheduler', 'worker'] as const).some((r) => pubs(r).includes('errand.notify.>'))).toBe(false);
    expect(pubs('worker').some((s) => s.includes('errand_secrets') && !s.startsWith('$JS.API.STREAM.'))).toBe(false);
    expect(servicePermissions('worker').subscribe.some((s) => s.startsWith('_INBOX.') && s !== '_INBOX.errand.>')).toBe(false);
  });
});
