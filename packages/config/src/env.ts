import { z } from 'zod';

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
});
export type ClientEnv = z.infer<typeof clientSchema>;

/** The environment the SDK and CLI read (empty values count as unset). */
export function clientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  return clientSchema.parse(Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== '' && k in clientSchema.shape)));
}
