import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nkeys } from '@nats-io/nats-core';
import { natsSettings } from '@errand/config';
import { makeTestPki, startNatsServer, type NatsServer, type TestPki } from '@errand/testing';
import { connectNats, NatsRefusedError } from './connect.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'errand-creds-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Connect with these variables, check the server sees us, close. */
async function roundTrip(env: Record<string, string>): Promise<void> {
  const nc = await connectNats({ name: 'creds-test', settings: natsSettings(env), firstConnectTimeoutMs: 5_000 });
  try {
    await nc.flush();
    expect(nc.isClosed()).toBe(false);
  } finally {
    await nc.close();
  }
}

/** A refused connection fails at once with one clear error, no retry loop. */
async function refused(env: Record<string, string>, what: RegExp): Promise<void> {
  const t0 = Date.now();
  const err = await connectNats({ name: 'creds-test', settings: natsSettings(env) }).then(
    (nc) => nc.close().then(() => undefined),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NatsRefusedError);
  expect((err as Error).message).toMatch(what);
  // not the reconnect loop: no wait between tries would add up to this
  expect(Date.now() - t0).toBeLessThan(5_000);
}

describe('user and password', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ config: 'authorization { users = [ { user: svc, password: "p@ss:w0rd" } ] }' });
  });
  afterAll(() => server.stop());
  const host = () => `127.0.0.1:${server.port}`;

  it('connects with NATS_USER and NATS_PASSWORD', async () => {
    await roundTrip({ NATS_URL: server.url, NATS_USER: 'svc', NATS_PASSWORD: 'p@ss:w0rd' });
  });
  it('connects with the user and password in the URL (percent-encoded)', async () => {
    await roundTrip({ NATS_URL: `nats://svc:${encodeURIComponent('p@ss:w0rd')}@${host()}` });
  });
  it('a wrong password: one clear error at once', async () => {
    await refused({ NATS_URL: server.url, NATS_USER: 'svc', NATS_PASSWORD: 'nope' }, /refused the connection with user "svc"/);
  });
  it('no credentials: refused at once', async () => {
    await refused({ NATS_URL: server.url }, /refused the connection with no credentials/);
  });
});

describe('token', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ config: 'authorization { token: "t0k3n-abc" }' });
  });
  afterAll(() => server.stop());

  it('connects with NATS_TOKEN and with a token in the URL', async () => {
    await roundTrip({ NATS_URL: server.url, NATS_TOKEN: 't0k3n-abc' });
    await roundTrip({ NATS_URL: `nats://t0k3n-abc@127.0.0.1:${server.port}` });
  });
  it('a wrong token is refused at once', async () => {
    await refused({ NATS_URL: server.url, NATS_TOKEN: 'wrong' }, /refused the connection with a token/);
  });
});

describe('NKey seed file', () => {
  let server: NatsServer;
  const user = nkeys.createUser();
  beforeAll(async () => {
    server = await startNatsServer({ config: `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }` });
  });
  afterAll(() => server.stop());

  it('connects with NATS_NKEY pointing at a seed file', async () => {
    const file = join(dir, 'svc.nk');
    writeFileSync(file, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
    await roundTrip({ NATS_URL: server.url, NATS_NKEY: file });
  });
  it('another seed is refused at once', async () => {
    const file = join(dir, 'other.nk');
    writeFileSync(file, new TextDecoder().decode(nkeys.createUser().getSeed()));
    await refused({ NATS_URL: server.url, NATS_NKEY: file }, /refused the connection with a nkey/);
  });
});

describe('TLS with a private CA', () => {
  let server: NatsServer;
  let mtls: NatsServer;
  let pki: TestPki;
  beforeAll(async () => {
    pki = makeTestPki(dir);
    server = await startNatsServer({ config: `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}" }` });
    mtls = await startNatsServer({
      config: `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true }`,
    });
  });
  afterAll(async () => {
    await server.stop();
    await mtls.stop();
  });

  it('connects with NATS_CA', async () => {
    await roundTrip({ NATS_URL: server.url, NATS_CA: pki.ca });
  });
  it('without NATS_CA the server certificate is not trusted: a clear error at once', async () => {
    await refused({ NATS_URL: server.url }, /TLS failed/);
  });
  it('a client certificate with NATS_CERT and NATS_KEY', async () => {
    await roundTrip({ NATS_URL: mtls.url, NATS_CA: pki.ca, NATS_CERT: pki.clientCert, NATS_KEY: pki.clientKey });
  });
  // the server drops such a client without a word: it is a timeout, not a refusal the client can tell
  it('a server that verifies clients refuses one without a certificate', async () => {
    const err = await connectNats({ name: 'creds-test', settings: natsSettings({ NATS_URL: mtls.url, NATS_CA: pki.ca }), firstConnectTimeoutMs: 1_500 }).then(
      (nc) => nc.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
  });
});
