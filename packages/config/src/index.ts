import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { isToken, TASK_TYPE_RE } from '@errand/contracts';

const int = (min: number) => z.coerce.number().int().min(min);

/** The environment every service reads (DESIGN.md, "Configuration and defaults"), plus Errand's own tuning knobs. */
const envSchema = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  PORT: int(0).max(65535).default(8080),
  ERRAND_HOST: z.string().optional(),
  ERRAND_CONCURRENCY: int(1).default(3),
  ERRAND_MAX_PENDING_PER_USER: int(1).default(10),
  ERRAND_API_KEYS: z.string().optional(),
  ERRAND_TENANT_CONCURRENCY: int(1).optional(),
  ERRAND_TYPE_CONCURRENCY: z.string().optional(),
  ERRAND_SECRET_KEY: z.string().optional(),
  ERRAND_WEBHOOK_ALLOW: z.string().optional(),
  ERRAND_DATA_DIR: z.string().default('.data'),
  /** the longest timeoutMs a submit may ask for */
  ERRAND_MAX_TIMEOUT_MS: int(1).default(86_400_000),
  /** how long submit waits for the scheduler's decision before answering `submitted` */
  ERRAND_DECISION_WAIT_MS: int(0).default(3_000),
  /** a running task whose worker sent no beat for this long is taken up again */
  ERRAND_LEASE_MS: int(1_000).default(20_000),
  /** how often a worker beats */
  ERRAND_HEARTBEAT_MS: int(100).default(3_000),
  ERRAND_CANCEL_GRACE_MS: int(0).default(10_000),
  /** task slots of one worker process */
  ERRAND_WORKER_CONCURRENCY: int(1).default(8),
  /** pools a worker serves (comma-separated) */
  ERRAND_WORKER_POOLS: z.string().default('default'),
  /** results larger than this (bytes of JSON) are kept in the object store */
  ERRAND_RESULT_INLINE_MAX: int(1_024).default(256 * 1024),
  /** how long partial results of cancelled, timed-out or failed tasks are kept */
  ERRAND_PARTIAL_RETENTION_MS: int(0).default(86_400_000),
  /** retry backoff of handler errors */
  ERRAND_RETRY_BASE_MS: int(0).default(1_000),
  ERRAND_RETRY_MAX_MS: int(0).default(30_000),
  /** the scheduler writes a snapshot after this many events */
  ERRAND_SNAPSHOT_EVERY: int(100).default(50_000),
  ERRAND_BODY_LIMIT: int(1_024).default(512 * 1024),
  /** SMTP server for `email` targets (smtp:// or smtps://, credentials in the URL); unset = no email targets */
  ERRAND_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  ERRAND_EMAIL_FROM: z.string().default('Errand <errand@localhost>'),
  /** the bearer token `GET /metrics` requires when API keys are configured; unset = /metrics answers 404 then */
  ERRAND_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** API key -> tenant; empty in development mode */
  apiKeys: Map<string, string>;
  devMode: boolean;
  typeConcurrency: Map<string, number>;
  webhookAllow: string[];
  host: string;
  pools: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function pairs(text: string, what: string): [string, string][] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'))
    .map((s) => {
      const i = s.indexOf('=');
      if (i <= 0 || i === s.length - 1) throw new ConfigError(`${what}: "${s}" is not a key=value pair`);
      return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
    });
}

/** `key=tenant` pairs, or a path to a file of them. */
export function parseApiKeys(value: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  if (!value) return keys;
  const text = !value.includes('=') && existsSync(value) ? readFileSync(value, 'utf8') : value;
  for (const [key, tenant] of pairs(text, 'ERRAND_API_KEYS')) {
    if (!isToken(tenant)) throw new ConfigError(`ERRAND_API_KEYS: tenant "${tenant}" is not a valid token`);
    keys.set(key, tenant);
  }
  return keys;
}

export function parseTypeConcurrency(value: string | undefined): Map<string, number> {
  const limits = new Map<string, number>();
  if (!value) return limits;
  for (const [type, n] of pairs(value, 'ERRAND_TYPE_CONCURRENCY')) {
    const num = Number(n);
    if (!TASK_TYPE_RE.test(type) || !Number.isInteger(num) || num < 1) {
      throw new ConfigError(`ERRAND_TYPE_CONCURRENCY: "${type}=${n}" needs a task type and a whole number >= 1`);
    }
    limits.set(type, num);
  }
  return limits;
}

/** Read and check the configuration; a bad value is a clear error at start-up. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const apiKeys = parseApiKeys(e.ERRAND_API_KEYS);
  const devMode = apiKeys.size === 0;
  return {
    ...e,
    ERRAND_DATA_DIR: resolve(e.ERRAND_DATA_DIR),
    apiKeys,
    devMode,
    typeConcurrency: parseTypeConcurrency(e.ERRAND_TYPE_CONCURRENCY),
    webhookAllow: (e.ERRAND_WEBHOOK_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    // development mode never listens beyond this machine
    host: devMode ? '127.0.0.1' : (e.ERRAND_HOST ?? '0.0.0.0'),
    pools: e.ERRAND_WORKER_POOLS.split(',').map((s) => s.trim()).filter(Boolean),
  };
}
