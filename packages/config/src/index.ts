import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, parseApiKeys, parseDeliverySchedule, parseTypeConcurrency } from './parse.ts';

export {
  ConfigError,
  DEFAULT_DELIVERY_SCHEDULE_MS,
  parseApiKeys,
  parseDeliverySchedule,
  parseTypeConcurrency,
} from './parse.ts';
export { clientEnv, clientNatsSettings, logLevel, type ClientEnv, type LogLevel } from './env.ts';
import { natsSettings, type NatsSettings } from './nats.ts';
export { natsSettings, splitUrlCredentials, DEFAULT_NATS_URL, type NatsSettings, type NatsAuthKind } from './nats.ts';
export { natsConnectOptions } from './nats-options.ts';

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
  /** replicas of every stream and bucket (3 on a 3-node JetStream cluster) */
  ERRAND_REPLICAS: int(1).max(5).default(1),
  /** how often each service checks that the event log it knows is still there */
  ERRAND_LOG_CHECK_MS: int(100).default(2_000),
  /** the longest timeoutMs a submit may ask for */
  ERRAND_MAX_TIMEOUT_MS: int(1).default(86_400_000),
  /** how long submit waits for the scheduler's decision before answering `submitted` */
  ERRAND_DECISION_WAIT_MS: int(0).default(3_000),
  /** a running task whose worker sent no beat for this long is taken up again */
  ERRAND_LEASE_MS: int(1_000).default(20_000),
  /** how often a worker beats */
  ERRAND_HEARTBEAT_MS: int(100).default(3_000),
  ERRAND_CANCEL_GRACE_MS: int(0).default(10_000),
  /** how long the intake waits for the scheduler leader to say why tasks wait (status and list answers) */
  ERRAND_WAITING_TIMEOUT_MS: int(10).default(300),
  /** how long after a task's deadline the scheduler writes `timed-out` when the worker has not */
  ERRAND_TIMEOUT_SLACK_MS: int(0).default(2_000),
  /** attempts of a task whose type's defaults are not known to the scheduler */
  ERRAND_DEFAULT_MAX_ATTEMPTS: int(1).default(3),
  /** task slots of one worker process */
  ERRAND_WORKER_CONCURRENCY: int(1).default(8),
  /** demo.report's simulated time per day (the built-in worker) */
  ERRAND_DEMO_REPORT_MS_PER_DAY: int(0).default(2_000),
  /** pools a worker serves (comma-separated) */
  ERRAND_WORKER_POOLS: z.string().default('default'),
  /** results larger than this (bytes of JSON) are kept in the object store */
  ERRAND_RESULT_INLINE_MAX: int(1_024).default(256 * 1024),
  /** the largest result a task may return (bytes of JSON); a larger one fails the task with `result_too_large` */
  ERRAND_MAX_RESULT_BYTES: int(1_024).default(16 * 1024 * 1024),
  /** a task view carries a result up to this size (bytes of JSON); a larger one is left out and linked (`resultUrl`) */
  ERRAND_VIEW_RESULT_MAX: int(1_024).default(64 * 1024),
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
  /** pino's level for every service's logs */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // the notifier's knobs
  /** base of the result links in messages; default the intake on this machine */
  ERRAND_PUBLIC_URL: z.string().optional(),
  /** delays before each retry of a delivery, comma-separated ms */
  ERRAND_DELIVERY_SCHEDULE_MS: z.string().optional(),
  /** one HTTP try, connect to last byte */
  ERRAND_DELIVERY_TIMEOUT_MS: int(100).default(15_000),
  /**
   * The notifier consumer's max_ack_pending. Events wait unacked while their
   * deliveries retry (bounded by the schedule, ~13 min by default); at this
   * limit the server stops sending events, which is the back-pressure we want,
   * but set well above the tasks one process can keep in flight.
   */
  ERRAND_NOTIFIER_MAX_ACK_PENDING: int(10).default(10_000),
  /** a crashed notifier's events come back to the next one after this long (held events are kept alive with working()) */
  ERRAND_NOTIFIER_ACK_WAIT_MS: int(1_000).default(10_000),
  /** HTTP / NATS sends in flight at once, over all tasks */
  ERRAND_NOTIFIER_CONCURRENCY: int(1).default(32),
  /** task memos kept in memory (least recently used ones go first) */
  ERRAND_NOTIFIER_CACHE: int(10).default(10_000),
  /**
   * How many parts the tasks are split into, each held by one notifier at a
   * time (at most 64). Each partition reads every event (and acks the others'
   * at once), so more partitions cost reads: use about as many as notifiers run.
   */
  ERRAND_NOTIFIER_PARTITIONS: int(1).transform((n) => Math.min(64, n)).default(1),
  /**
   * how long a task's history is kept after it ends (DESIGN.md); also the `ttl` of an MCP task.
   * Days; a fraction is allowed (0.5 = 12 hours; tests use seconds' worth).
   */
  ERRAND_HISTORY_DAYS: z.coerce.number().min(0.00001, 'must be at least 0.00001 days (about a second)').default(30),
  /** the PostgreSQL database of the history store (postgres://…); unset = an embedded store (PGlite) in the data folder */
  ERRAND_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /**
   * the history projector's batch: at most this many log messages per transaction. A task's
   * events in one batch make one row write; a lagging projector catches up with big batches.
   */
  ERRAND_PROJECTOR_BATCH: int(1).default(20_000),
  /**
   * the history projector's pace when the log trickles: at least this long between the starts of
   * two batches (a full batch goes on at once). A status waits up to this much longer for its write.
   * Unset: PROJECTOR_INTERVAL_MS by store (`projectorIntervalMs`).
   */
  ERRAND_PROJECTOR_INTERVAL_MS: int(0).optional(),
  /** how often ended tasks older than ERRAND_HISTORY_DAYS are removed from the store and the log */
  ERRAND_RETENTION_SWEEP_MS: int(1_000).default(60_000),
  /** how long an MCP tool call waits for its task before answering that it runs in the background */
  ERRAND_MCP_BUDGET_MS: int(0).default(15_000),
  /** the bearer token `GET /metrics` requires when API keys are configured; unset = /metrics answers 404 then */
  ERRAND_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

export type Env = z.infer<typeof envSchema>;

/**
 * The projector's interval when ERRAND_PROJECTOR_INTERVAL_MS is unset. A
 * transaction of the embedded store costs its process 6–8 ms of CPU at a
 * trickle, on the machine's own cores: at 200 tasks/s every 20 ms that was a
 * quarter of a core and the difference between a submit -> start p99 under
 * 20 ms and over it (README, Benchmarks). A PostgreSQL server's is cheap.
 */
export const PROJECTOR_INTERVAL_MS = { embedded: 50, postgres: 20 } as const;

export interface Config extends Env {
  /** API key -> tenant; empty in development mode */
  apiKeys: Map<string, string>;
  devMode: boolean;
  typeConcurrency: Map<string, number>;
  webhookAllow: string[];
  host: string;
  pools: string[];
  /** ERRAND_PUBLIC_URL without a trailing slash, default `http://127.0.0.1:<PORT>` */
  publicUrl: string;
  /** ERRAND_DELIVERY_SCHEDULE_MS parsed (default DEFAULT_DELIVERY_SCHEDULE_MS) */
  deliverySchedule: number[];
  /** servers, credentials and TLS of the NATS connection */
  nats: NatsSettings;
  /** ERRAND_PROJECTOR_INTERVAL_MS, or PROJECTOR_INTERVAL_MS of the configured store */
  projectorIntervalMs: number;
}

/** Read and check the configuration; a bad value is a clear error at start-up. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
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
    publicUrl: (e.ERRAND_PUBLIC_URL || `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, ''),
    deliverySchedule: parseDeliverySchedule(e.ERRAND_DELIVERY_SCHEDULE_MS),
    nats: natsSettings(env),
    projectorIntervalMs: e.ERRAND_PROJECTOR_INTERVAL_MS ?? PROJECTOR_INTERVAL_MS[e.ERRAND_DATABASE_URL ? 'postgres' : 'embedded'],
  };
}

/** The MCP settings alone (`errand mcp` reads only these, not the services' whole configuration). */
export function loadMcpConfig(env: NodeJS.ProcessEnv = process.env): Pick<Env, 'ERRAND_HISTORY_DAYS' | 'ERRAND_MCP_BUDGET_MS'> {
  const schema = envSchema.pick({ ERRAND_HISTORY_DAYS: true, ERRAND_MCP_BUDGET_MS: true });
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}
