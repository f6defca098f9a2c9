import { z } from 'zod';
import { natsSettings, type NatsSettings } from './nats.ts';

const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof logLevelSchema>;

/**
 * LOG_LEVEL alone: loggers are made before (and apart from) the whole
 * configuration, and a bad level must not keep a process from saying why the
 * rest of its configuration is wrong. An unknown level is `info`.
 */
export function logLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const parsed = logLevelSchema.safeParse(env.LOG_LEVEL || 'info');
  return parsed.success ? parsed.data : 'info';
}

const clientSchema = z.object({
  /** the intake the CLI talks to */
  ERRAND_URL: z.string().optional(),
  ERRAND_API_KEY: z.string().optional(),
  /** NATS server(s) of the NATS client, comma-separated */
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** the tenant of the NATS client (its subjects and inbox) */
  ERRAND_TENANT: z.string().default('default'),
});
export type ClientEnv = z.infer<typeof clientSchema>;

/** The environment the SDK and CLI read (empty values count as unset). */
export function clientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  return clientSchema.parse(Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== '' && k in clientSchema.shape)));
}

/**
 * The NATS settings of the SDK's NATS client: `NATS_URL` (or the servers
 * given) with the credentials and TLS variables of the environment.
 */
export function clientNatsSettings(servers?: string | string[], env: NodeJS.ProcessEnv = process.env): NatsSettings {
  return natsSettings({ ...env, ...(servers !== undefined ? { NATS_URL: [servers].flat().join(',') } : {}) });
}
