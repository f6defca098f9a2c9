import { parseArgs } from 'node:util';
import { TASK_STATES, prioritySchema, type PriorityInput, type SubmitBody, type TaskState } from '@errand/contracts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: errand <command> [options]

commands:
  submit <type> [--params JSON] [--user U] [--priority high|normal|low|0-9]
                [--timeout MS] [--idempotency-key K] [--deliver JSON] [--watch]
  status <id>                 the task view
  history <id>                the task's events
  watch <id>                  live progress until the task ends, then its result
  result <id>                 the result (or partial result)
  cancel <id> [--reason R] [--discard-partial]
  retry <id>
  list [--state S] [--user U] [--type T] [--limit N] [--cursor C]
  types                       registered task types
  metrics                     completion and queue times by type
  top                         live: running tasks, queue depth by priority, workers

options: --url URL (env ERRAND_URL, default http://127.0.0.1:8080)
         --api-key KEY (env ERRAND_API_KEY)
         --json (the API's JSON, for programs; default: tables and sentences for people)`;

export type Command =
  | { cmd: 'submit'; body: SubmitBody; watch: boolean }
  | { cmd: 'status' | 'history' | 'watch' | 'result' | 'retry'; id: string }
  | { cmd: 'cancel'; id: string; reason?: string; discardPartial?: boolean }
  | { cmd: 'list'; query: { state?: TaskState; user?: string; type?: string; limit?: number; cursor?: string } }
  | { cmd: 'types' | 'metrics' | 'top' | 'help' };

export interface Cli {
  command: Command;
  url: string;
  apiKey: string | undefined;
  json: boolean;
}

const OPTIONS = {
  params: { type: 'string' },
  user: { type: 'string' },
  priority: { type: 'string' },
  timeout: { type: 'string' },
  'idempotency-key': { type: 'string' },
  deliver: { type: 'string' },
  metadata: { type: 'string' },
  watch: { type: 'boolean', short: 'w' },
  reason: { type: 'string' },
  'discard-partial': { type: 'boolean' },
  state: { type: 'string' },
  type: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function json(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--${flag} is not valid JSON: ${(err as Error).message}`);
  }
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${flag} must be a positive integer, not "${text}"`);
  return n;
}

export function parsePriority(text: string): PriorityInput {
  const value: unknown = /^\d+$/.test(text) ? Number(text) : text;
  const p = prioritySchema.safeParse(value);
  if (!p.success) throw new UsageError(`--priority must be high, normal, low or an integer 0-9, not "${text}"`);
  return p.data;
}

/** Parse the CLI's arguments (without `node` and the script) and environment. Throws UsageError. */
export function parseCli(argv: string[], env: Record<string, string | undefined> = {}): Cli {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  const [cmd, ...rest] = positionals;
  const base = {
    url: v.url ?? env.ERRAND_URL ?? 'http://127.0.0.1:8080',
    apiKey: v['api-key'] ?? (env.ERRAND_API_KEY || undefined),
    json: v.json ?? false,
  };
  if (v.help || cmd === undefined || cmd === 'help') return { ...base, command: { cmd: 'help' } };
  const want = (n: number, what: string) => {
    if (rest.length !== n) throw new UsageError(`${cmd} takes ${what}`);
  };
  switch (cmd) {
    case 'submit': {
      want(1, 'one task type: errand submit <type>');
      const body: SubmitBody = { type: rest[0]! };
      if (v.params !== undefined) body.params = json('params', v.params);
      if (v.user !== undefined) body.user = v.user;
      if (v.priority !== undefined) body.priority = parsePriority(v.priority);
      if (v.timeout !== undefined) body.timeoutMs = positiveInt('timeout', v.timeout);
      if (v['idempotency-key'] !== undefined) body.idempotencyKey = v['idempotency-key'];
      if (v.deliver !== undefined) {
        const d = json('deliver', v.deliver);
        body.deliver = (Array.isArray(d) ? d : [d]) as SubmitBody['deliver'];
      }
      if (v.metadata !== undefined) body.metadata = json('metadata', v.metadata) as Record<string, unknown>;
      return { ...base, command: { cmd: 'submit', body, watch: v.watch ?? false } };
    }
    case 'status':
    case 'history':
    case 'watch':
    case 'result':
    case 'retry':
      want(1, 'one task id');
      return { ...base, command: { cmd, id: rest[0]! } };
    case 'cancel':
      want(1, 'one task id');
      return {
        ...base,
        command: {
          cmd: 'cancel',
          id: rest[0]!,
          ...(v.reason !== undefined ? { reason: v.reason } : {}),
          ...(v['discard-partial'] ? { discardPartial: true } : {}),
        },
      };
    case 'list': {
      want(0, 'no positional arguments');
      if (v.state !== undefined && !(TASK_STATES as readonly string[]).includes(v.state)) {
        throw new UsageError(`--state must be one of ${TASK_STATES.join(', ')}`);
      }
      const query = {
        ...(v.state !== undefined ? { state: v.state as TaskState } : {}),
        ...(v.user !== undefined ? { user: v.user } : {}),
        ...(v.type !== undefined ? { type: v.type } : {}),
        ...(v.limit !== undefined ? { limit: positiveInt('limit', v.limit) } : {}),
        ...(v.cursor !== undefined ? { cursor: v.cursor } : {}),
      };
      return { ...base, command: { cmd: 'list', query } };
    }
    case 'types':
    case 'metrics':
    case 'top':
      want(0, 'no arguments');
      return { ...base, command: { cmd } };
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}
