import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type ConnectionOptions,
} from '@nats-io/nats-core';
import type { NatsSettings } from './nats.ts';

/**
 * The part of nats.js's `ConnectionOptions` that says where to connect and
 * who this is: servers, one authenticator, TLS. Every service (through
 * `connectNats`) and both SDKs spread it into their `connect()` options.
 */
export function natsConnectOptions(s: NatsSettings): Pick<ConnectionOptions, 'servers' | 'authenticator' | 'tls'> {
  const out: Pick<ConnectionOptions, 'servers' | 'authenticator' | 'tls'> = { servers: s.servers };
  if (s.auth === 'user' && s.user !== undefined) out.authenticator = usernamePasswordAuthenticator(s.user, s.pass);
  else if (s.auth === 'token' && s.token !== undefined) out.authenticator = tokenAuthenticator(s.token);
  else if (s.auth === 'nkey' && s.nkeySeed) out.authenticator = nkeyAuthenticator(s.nkeySeed);
  else if (s.auth === 'creds' && s.creds) out.authenticator = credsAuthenticator(s.creds);
  if (s.tls) out.tls = { ...s.tls };
  return out;
}
