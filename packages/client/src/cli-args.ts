import { Command as Program, CommanderError, Option } from 'commander';
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
  mcp                         serve the MCP server on stdio (ERRAND_MCP_BUDGET_MS)

options: --url URL (env ERRAND_URL, default http://127.0.0.1:8080)
         --api-key KEY (env ERRAND_API_KEY)
         --json (the API's JSON, for programs; default: tables and sentences for people)`;

export type Command =
  | { cmd: 'submit'; body: SubmitBody; watch: boolean }
  | { cmd: 'status' | 'history' | 'watch' | 'result' | 'retry'; id: string }
  | { cmd: 'cancel'; id: string; reason?: string; discardPartial?: boolean }
  | { cmd: 'list'; query: { state?: TaskState; user?: string; type?: string; limit?: number; cursor?: string } }
  | { cmd: 'types' | 'metrics' | 'top' | 'mcp' | 'help' };

export interface Cli {
  command: Command;
  url: string;
  apiKey: string | undefined;
  json: boolean;
}

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

type Values = Record<string, string | boolean | undefined>;
const str = (v: Values, k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);

function submitCommand(type: string, v: Values): Command {
  const body: SubmitBody = { type };
  const params = str(v, 'params');
  if (params !== undefined) body.params = json('params', params);
  if (str(v, 'user') !== undefined) body.user = str(v, 'user')!;
  if (str(v, 'priority') !== undefined) body.priority = parsePriority(str(v, 'priority')!);
  if (str(v, 'timeout') !== undefined) body.timeoutMs = positiveInt('timeout', str(v, 'timeout')!);
  if (str(v, 'idempotencyKey') !== undefined) body.idempotencyKey = str(v, 'idempotencyKey')!;
  const deliver = str(v, 'deliver');
  if (deliver !== undefined) {
    const d = json('deliver', deliver);
    body.deliver = (Array.isArray(d) ? d : [d]) as SubmitBody['deliver'];
  }
  if (str(v, 'metadata') !== undefined) body.metadata = json('metadata', str(v, 'metadata')!) as Record<string, unknown>;
  return { cmd: 'submit', body, watch: v.watch === true };
}

function listCommand(v: Values): Command {
  const state = str(v, 'state');
  if (state !== undefined && !(TASK_STATES as readonly string[]).includes(state)) {
    throw new UsageError(`--state must be one of ${TASK_STATES.join(', ')}`);
  }
  const query = {
    ...(state !== undefined ? { state: state as TaskState } : {}),
    ...(str(v, 'user') !== undefined ? { user: str(v, 'user')! } : {}),
    ...(str(v, 'type') !== undefined ? { type: str(v, 'type')! } : {}),
    ...(str(v, 'limit') !== undefined ? { limit: positiveInt('limit', str(v, 'limit')!) } : {}),
    ...(str(v, 'cursor') !== undefined ? { cursor: str(v, 'cursor')! } : {}),
  };
  return { cmd: 'list', query };
}

/**
 * The commands as a commander program: each action records its Command;
 * commander's own errors become UsageErrors (nothing is printed, nothing exits).
 * To add a command: one `.command(...)` here, one case in `run` (cli.ts).
 */
function program(found: (c: Command) => void): Program {
  const p = new Program('errand')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .helpOption(false)
    .addHelpCommand(false)
    .allowExcessArguments(false);
  // options every command takes (global, so they may come before or after the command)
  const common = (c: Program) =>
    c.helpOption(false).option('--url <url>').option('--api-key <key>').option('--json').addOption(new Option('-h, --help'));
  common(p);
  const id = (name: 'status' | 'history' | 'watch' | 'result' | 'retry') =>
    common(p.command(name).argument('[id]')).action((i: string | undefined) => {
      if (i === undefined) throw new UsageError(`${name} takes one task id`);
      found({ cmd: name, id: i });
    });
  common(p.command('submit').argument('[type]'))
    .option('--params <json>').option('--user <user>').option('--priority <p>').option('--timeout <ms>')
    .option('--idempotency-key <key>').option('--deliver <json>').option('--metadata <json>').option('-w, --watch')
    .action((type: string | undefined, v: Values) => {
      if (type === undefined) throw new UsageError('submit takes one task type: errand submit <type>');
      found(submitCommand(type, v));
    });
  for (const name of ['status', 'history', 'watch', 'result', 'retry'] as const) id(name);
  common(p.command('cancel').argument('[id]')).option('--reason <text>').option('--discard-partial')
    .action((i: string | undefined, v: Values) => {
      if (i === undefined) throw new UsageError('cancel takes one task id');
      found({ cmd: 'cancel', id: i, ...(str(v, 'reason') !== undefined ? { reason: str(v, 'reason')! } : {}), ...(v.discardPartial ? { discardPartial: true } : {}) });
    });
  common(p.command('list')).option('--state <state>').option('--user <user>').option('--type <type>').option('--limit <n>').option('--cursor <c>')
    .action((v: Values) => found(listCommand(v)));
  for (const name of ['types', 'metrics', 'top', 'mcp'] as const) common(p.command(name)).action(() => found({ cmd: name }));
  return p;
}

/** Parse the CLI's arguments (without `node` and the script) and environment. Throws UsageError. */
export function parseCli(argv: string[], env: Record<string, string | undefined> = {}): Cli {
  let command: Command = { cmd: 'help' };
  const p = program((c) => (command = c));
  const wantsHelp = argv.length === 0 || argv[0] === 'help' || argv.includes('-h') || argv.includes('--help');
  try {
    if (!wantsHelp) p.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof CommanderError) {
      const msg = err.code === 'commander.unknownCommand' ? `unknown command "${argv.find((a) => !a.startsWith('-'))}"` : err.message.replace(/^error: /, '');
      throw new UsageError(msg);
    }
    throw err;
  }
  const sub = p.commands.find((c) => argv.includes(c.name()));
  const v = { ...p.opts(), ...sub?.opts() } as Values;
  return {
    url: str(v, 'url') ?? env.ERRAND_URL ?? 'http://127.0.0.1:8080',
    apiKey: str(v, 'apiKey') ?? (env.ERRAND_API_KEY || undefined),
    json: v.json === true,
    command: wantsHelp ? { cmd: 'help' } : command,
  };
}
