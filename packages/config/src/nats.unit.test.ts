import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nkeys } from '@nats-io/nats-core';
import { ConfigError } from './errors.ts';
import { natsSettings, splitUrlCredentials } from './nats.ts';
import { natsConnectOptions } from './nats-options.ts';

const dir = mkdtempSync(join(tmpdir(), 'errand-natscfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('natsSettings', () => {
  it('defaults to the local server with no credentials', () => {
    expect(natsSettings({})).toEqual({ servers: ['nats://127.0.0.1:4222'], auth: 'none' });
  });

  it('takes user and password out of every URL of the list', () => {
    const s = natsSettings({ NATS_URL: 'nats://svc:p%40ss@h1:4222, nats://svc:p%40ss@h2:4222' });
    expect(s).toMatchObject({ servers: ['nats://h1:4222', 'nats://h2:4222'], auth: 'user', user: 'svc', pass: 'p@ss' });
  });

  it('reads a URL with only a user part as a token', () => {
    expect(natsSettings({ NATS_URL: 'nats://s3cret@h:4222' })).toMatchObject({ auth: 'token', token: 's3cret', servers: ['nats://h:4222'] });
    expect(splitUrlCredentials('h:4222')).toEqual({ server: 'h:4222' });
  });

  it('refuses two kinds of credentials, a user without a password, and missing files', () => {
    expect(() => natsSettings({ NATS_USER: 'a', NATS_PASSWORD: 'b', NATS_TOKEN: 't' })).toThrow(/one kind, not NATS_USER and NATS_TOKEN/);
    expect(() => natsSettings({ NATS_USER: 'a' })).toThrow(ConfigError);
    expect(() => natsSettings({ NATS_CREDS: join(dir, 'absent.creds') })).toThrow(/NATS_CREDS: no file/);
    expect(() => natsSettings({ NATS_CA: join(dir, 'absent.pem') })).toThrow(/NATS_CA: no file/);
    expect(() => natsSettings({ NATS_CERT: join(dir, 'x') })).toThrow(/NATS_CERT and NATS_KEY go together/);
  });

  it('a seed file must hold a seed', () => {
    const file = join(dir, 'bad.nk');
    writeFileSync(file, 'not a seed\n');
    expect(() => natsSettings({ NATS_NKEY: file })).toThrow(/holds no NKey seed/);
  });
});

describe('natsConnectOptions', () => {
  it('passes a .creds file: its user JWT, and a nonce signed by its seed', () => {
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJ0ZXN0In0.c2ln';
    const file = join(dir, 'svc.creds');
    writeFileSync(
      file,
      `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    );
    const opts = natsConnectOptions(natsSettings({ NATS_CREDS: file }));
    const auth = (opts.authenticator as unknown as (nonce?: string) => Record<string, string>)('n0nce');
    expect(auth.jwt).toBe(jwt);
    expect(auth.nkey).toBe(user.getPublicKey());
    const sig = Uint8Array.from(atob(auth.sig!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    expect(nkeys.fromPublic(user.getPublicKey()).verify(new TextEncoder().encode('n0nce'), sig)).toBe(true);
  });

  it('hands TLS files to the transport', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'x');
    expect(natsConnectOptions(natsSettings({ NATS_CA: ca })).tls).toEqual({ caFile: ca });
  });
});
