import type { LogSink } from '@errand/contracts';
import { logLevel, type LogLevel } from '@errand/config';
import { pino, destination, stdSerializers, stdTimeFunctions, type Logger as Pino } from 'pino';

/**
 * Structured logs for every service: pino, one JSON object per line on
 * stderr (`time`, `level`, `service`, `msg`, fields). Keys that may hold a
 * secret are redacted wherever they appear (one level deep).
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger extends LogSink {
  child(fields: Record<string, unknown>): Logger;
}

const SECRET_KEYS = ['secret', 'authorization', 'apiKey', 'password', 'url', 'token'];
const REDACT = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)];

function wrap(p: Pino): Logger {
  const at =
    (lvl: Level) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) p[lvl](fields, msg);
      else p[lvl](msg);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (f) => wrap(p.child(f)) };
}

export function createLogger(
  service: string,
  base: Record<string, unknown> = {},
  level: LogLevel = logLevel(),
): Logger {
  const p = pino(
    {
      level,
      base: { service, ...base },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
    },
    destination({ fd: 2, sync: true }),
  );
  return wrap(p);
}
