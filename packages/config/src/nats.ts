import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

/** How a connection proves who it is (never the secret itself: fit for a log line). */
export type NatsAuthKind = 'none' | 'user' | 'token' | 'nkey' | 'creds';

/**
 * The NATS connection settings every service and SDK reads (DESIGN.md "Who
 * may do what on NATS"): servers, one kind of credentials, and TLS.
 */
export interface NatsSettings {
  /** server URLs, credentials removed */
  servers: string[];
  auth: NatsAuthKind;
  user?: string;
  pass?: string;
  token?: string;
  /** contents of the NKey seed file (`NATS_NKEY`) */
  nkeySeed?: Uint8Array;
  /** contents of the `.creds` file (`NATS_CREDS`): user JWT and seed */
  creds?: Uint8Array;
  /** `NATS_CA` (and the client certificate `NATS_CERT` + `NATS_KEY`): files, read by the transport */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

type Env = Record<string, string | undefined>;

const nonEmpty = (env: Env, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

function readSecretFile(name: string, path: string): Uint8Array {
  if (!existsSync(path)) throw new ConfigError(`${name}: no file at ${path}`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Split `nats://user:pass@host:4222` into a URL without credentials and what it carried. */
export function splitUrlCredentials(raw: string): { server: string; user?: string; pass?: string } {
  const url = raw.trim();
  const m = /^([a-z]+:\/\/)?([^@/]*)@(.+)$/i.exec(url);
  if (!m) return { server: url };
  const [, scheme = '', userinfo = '', rest = ''] = m;
  const i = userinfo.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const user = decode(i < 0 ? userinfo : userinfo.slice(0, i));
  const pass = i < 0 ? undefined : decode(userinfo.slice(i + 1));
  return { server: `${scheme}${rest}`, ...(user ? { user } : {}), ...(pass !== undefined ? { pass } : {}) };
}

function fromUrls(url: string): { servers: string[]; user?: string; pass?: string } {
  let found: { user?: string; pass?: string } = {};
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const { server, ...cred } = splitUrlCredentials(s);
      if (cred.user !== undefined) {
        if (found.user !== undefined && (found.user !== cred.user || found.pass !== cred.pass)) {
          throw new ConfigError('NATS_URL: the servers carry different credentials; give one set (NATS_USER and NATS_PASSWORD)');
        }
        found = cred;
      }
      return server;
    });
  if (servers.length === 0) throw new ConfigError('NATS_URL: no server given');
  return { servers, ...found };
}

/**
 * Read and check the NATS settings: `NATS_URL` (credentials in it too),
 * `NATS_USER` + `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_NKEY` (a seed file),
 * `NATS_CREDS` (a `.creds` file), `NATS_CA`, `NATS_CERT`, `NATS_KEY`. More
 * than one kind of credentials, or a file that cannot be read, is a clear
 * error at start. A URL without a password (`nats://s3cret@host`) carries a token.
 */
export function natsSettings(env: Env): NatsSettings {
  const urls = fromUrls(nonEmpty(env, 'NATS_URL') ?? DEFAULT_NATS_URL);
  const user = nonEmpty(env, 'NATS_USER');
  const pass = nonEmpty(env, 'NATS_PASSWORD');
  const token = nonEmpty(env, 'NATS_TOKEN');
  const nkey = nonEmpty(env, 'NATS_NKEY');
  const creds = nonEmpty(env, 'NATS_CREDS');
  if (user !== undefined && pass === undefined) throw new ConfigError('NATS_USER is set without NATS_PASSWORD');
  if (pass !== undefined && user === undefined) throw new ConfigError('NATS_PASSWORD is set without NATS_USER');
  const given = [
    urls.user !== undefined ? 'credentials in NATS_URL' : undefined,
    user !== undefined ? 'NATS_USER' : undefined,
    token !== undefined ? 'NATS_TOKEN' : undefined,
    nkey !== undefined ? 'NATS_NKEY' : undefined,
    creds !== undefined ? 'NATS_CREDS' : undefined,
  ].filter((x) => x !== undefined);
  if (given.length > 1) throw new ConfigError(`NATS credentials: give one kind, not ${given.join(' and ')}`);

  const out: NatsSettings = { servers: urls.servers, auth: 'none' };
  if (urls.user !== undefined && urls.pass === undefined) Object.assign(out, { auth: 'token', token: urls.user });
  else if (urls.user !== undefined) Object.assign(out, { auth: 'user', user: urls.user, pass: urls.pass });
  else if (user !== undefined) Object.assign(out, { auth: 'user', user, pass });
  else if (token !== undefined) Object.assign(out, { auth: 'token', token });
  else if (nkey !== undefined) Object.assign(out, { auth: 'nkey', nkeySeed: trimmed(readSecretFile('NATS_NKEY', nkey)) });
  else if (creds !== undefined) Object.assign(out, { auth: 'creds', creds: readSecretFile('NATS_CREDS', creds) });

  const tls = tlsSettings(env);
  if (tls) out.tls = tls;
  return out;
}

function tlsSettings(env: Env): NatsSettings['tls'] {
  const caFile = nonEmpty(env, 'NATS_CA');
  const certFile = nonEmpty(env, 'NATS_CERT');
  const keyFile = nonEmpty(env, 'NATS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('NATS_CERT and NATS_KEY go together: set both or neither');
  for (const [name, file] of [['NATS_CA', caFile], ['NATS_CERT', certFile], ['NATS_KEY', keyFile]] as const) {
    if (file !== undefined && !existsSync(file)) throw new ConfigError(`${name}: no file at ${file}`);
  }
  if (!caFile && !certFile) return undefined;
  return { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile, keyFile } : {}) };
}

/** An NKey seed file may end with a newline (or hold comment lines, as `nsc` writes): keep the seed line. */
function trimmed(data: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(data);
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => /^S[A-Z2-7]{50,}$/.test(l));
  if (!line) throw new ConfigError('NATS_NKEY: the file holds no NKey seed (a line starting with "S")');
  return new TextEncoder().encode(line);
}
