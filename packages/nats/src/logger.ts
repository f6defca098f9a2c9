/**
 * A small structured logger (one JSON object per line on stderr), so that
 * every service logs the same way. `redact` keys are never printed.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const REDACT = new Set(['secret', 'authorization', 'apiKey', 'password', 'url']);

function clean(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (REDACT.has(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message };
    else out[k] = v;
  }
  return out;
}

export function createLogger(
  service: string,
  base: Record<string, unknown> = {},
  level: Level = (process.env.LOG_LEVEL as Level) || 'info',
): Logger {
  const min = ORDER[level] ?? ORDER.info;
  const write = (lvl: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < min) return;
    process.stderr.write(
      JSON.stringify({ time: new Date().toISOString(), level: lvl, service, msg, ...clean(base), ...clean(fields) }) + '\n',
    );
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (f) => createLogger(service, { ...base, ...f }, level),
  };
}
