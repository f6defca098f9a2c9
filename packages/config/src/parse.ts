import { readFileSync, existsSync } from 'node:fs';
import { isToken, TASK_TYPE_RE } from '@errand/contracts';

import { ConfigError } from './errors.ts';

export { ConfigError };

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

/** Delays before the 2nd, 3rd, … try of a delivery: close to the Standard Webhooks schedule, shortened at the tail. */
export const DEFAULT_DELIVERY_SCHEDULE_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000];

/** Parse `ERRAND_DELIVERY_SCHEDULE_MS` ("1000,5000,30000"): whole, non-negative numbers. */
export function parseDeliverySchedule(text: string | undefined): number[] {
  if (text === undefined || !text.trim()) return [...DEFAULT_DELIVERY_SCHEDULE_MS];
  const out = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (out.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new ConfigError(`ERRAND_DELIVERY_SCHEDULE_MS: "${text}" must be comma-separated whole numbers of milliseconds`);
  }
  return out;
}
