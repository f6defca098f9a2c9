import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface ConnectOptions {
  url?: string;
  name: string;
  /** give up after this long when the server never answers (default: keep trying) */
  firstConnectTimeoutMs?: number;
}

/**
 * Connect for a long-running service: reconnect forever, and wait for the
 * first connection instead of failing when NATS starts after the service.
 */
export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  const servers = (opts.url ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',').map((s) => s.trim());
  return await connect({
    servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    ...(opts.firstConnectTimeoutMs ? { timeout: opts.firstConnectTimeoutMs } : {}),
    pingInterval: 10_000,
  });
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
