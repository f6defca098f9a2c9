import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { clientNatsSettings, natsConnectOptions, natsSettings, type NatsSettings } from '@errand/config';

export interface ConnectOptions {
  /** servers (credentials in the URL too); default `settings.servers`, then NATS_URL */
  url?: string;
  name: string;
  /** servers, credentials and TLS (`config.nats`); default: read from the environment */
  settings?: NatsSettings;
  /** give up after this long when the server never answers (default: keep trying) */
  firstConnectTimeoutMs?: number;
  /** where replies to this connection come; default `serviceInbox(name)` */
  inboxPrefix?: string;
}

/**
 * A service's own inbox prefix, `_INBOX_<name>` (e.g. `_INBOX_errand-worker`):
 * apart from the tenants' `_INBOX.<tenant>.>`, so a NATS user may be allowed
 * its own replies and no one else's (deploy/ grants each service its own).
 */
export function serviceInbox(name: string): string {
  return `_INBOX_${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** NATS answered but refused this connection (credentials or TLS): trying again cannot help. */
export class NatsRefusedError extends Error {
  override name = 'NatsRefusedError';
}

// TLS verification failures of node:tls (by their stable codes)
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ENOENT',
  'EACCES',
]);

function codesOf(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string') out.push(e.code);
  }
  return out;
}

/** The refusal in a failed first connect, as one clear sentence; undefined when the server just did not answer. */
function refusal(err: unknown, s: NatsSettings): NatsRefusedError | undefined {
  const who = s.auth === 'none' ? 'no credentials' : s.auth === 'user' ? `user "${s.user ?? ''}"` : `a ${s.auth}`;
  const where = s.servers.join(',');
  const why = (err as Error).message;
  if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) {
    return new NatsRefusedError(`NATS at ${where} refused the connection with ${who}: ${why} (check NATS_URL, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY or NATS_CREDS)`, { cause: err });
  }
  if (err instanceof errors.InvalidArgumentError || codesOf(err).some((c) => TLS_CODES.has(c))) {
    return new NatsRefusedError(`NATS at ${where}: TLS failed: ${why} (check NATS_CA, NATS_CERT and NATS_KEY)`, { cause: err });
  }
  return undefined;
}

/**
 * Connect for a long-running service: wait for the first connection while
 * NATS does not answer (it may start after the service), but fail at once,
 * with one clear error, when it answers and refuses the credentials or TLS.
 * Once connected, reconnect forever (auth errors included: a server being
 * reconfigured is not a reason to die).
 */
export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  const settings = opts.settings ?? clientNatsSettings(opts.url);
  const servers = opts.url && opts.settings ? natsSettings({ NATS_URL: opts.url }).servers : settings.servers;
  const options = {
    ...natsConnectOptions(settings),
    servers,
    name: opts.name,
    inboxPrefix: opts.inboxPrefix ?? serviceInbox(opts.name),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ignoreAuthErrorAbort: true,
    pingInterval: 10_000,
    // one attempt's limit (a server that drops a TLS client without a certificate never answers)
    timeout: Math.min(opts.firstConnectTimeoutMs ?? 5_000, 5_000),
  };
  const deadline = opts.firstConnectTimeoutMs ? Date.now() + opts.firstConnectTimeoutMs : Number.POSITIVE_INFINITY;
  for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await connect(options);
    } catch (err) {
      const refused = refusal(err, settings);
      if (refused) throw refused;
      if (Date.now() + wait > deadline) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** `major.minor.patch` of the server, and what this project cannot use on it. */
export function serverFeatures(nc: NatsConnection): { version: string; below210: boolean; notes: string[] } {
  const version = nc.info?.version ?? '0.0.0';
  const [maj = 0, min = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  const below210 = maj < 2 || (maj === 2 && min < 10);
  const notes = below210
    ? [
        `nats-server ${version}: per-message TTL, KV per-key TTL, schedules, atomic batches and multi-filter consumers are unavailable; Errand uses none of them`,
      ]
    : [];
  return { version, below210, notes };
}
