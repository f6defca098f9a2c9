import {
  DEFAULTS,
  ErrandError,
  MAX_JSON_DEPTH,
  priorityNumber,
  subjects,
  type SubmitBody,
  type TaskTypeInfo,
} from '@errand/contracts';

export interface SubmitSettings {
  user: string;
  params: unknown;
  priority: number;
  timeoutMs: number;
  progressEveryMs: number;
}

/** The submit's settings with the type's defaults filled in; an out-of-range value is `invalid`. */
export function resolveSettings(body: SubmitBody, type: TaskTypeInfo, maxTimeoutMs: number): SubmitSettings {
  const timeoutMs = body.timeoutMs ?? type.defaults.timeoutMs ?? DEFAULTS.timeoutMs;
  if (timeoutMs > maxTimeoutMs) {
    throw new ErrandError('invalid', `timeoutMs ${timeoutMs} is above the limit of ${maxTimeoutMs} ms`, {
      details: [{ path: 'timeoutMs', message: `must be at most ${maxTimeoutMs}` }],
    });
  }
  return {
    user: body.user ?? DEFAULTS.user,
    params: body.params ?? {},
    priority: body.priority !== undefined ? priorityNumber(body.priority) : (type.defaults.priority ?? DEFAULTS.priority),
    timeoutMs,
    progressEveryMs: body.progressEveryMs ?? type.defaults.progressEveryMs ?? DEFAULTS.progressEveryMs,
  };
}

const SUBJECT_TOKEN = /^[^\s.*>]+$/;

/** Why a `nats` target's subject is refused, or undefined when it is fine. */
export function natsSubjectProblem(subject: string, tenant: string): string | undefined {
  const prefix = subjects.notifyPrefix(tenant);
  if (!subject.startsWith(prefix)) return `must start with "${prefix}"`;
  const tokens = subject.split('.');
  if (tokens.length < 4 || !tokens.every((t) => SUBJECT_TOKEN.test(t))) {
    return 'must be a valid NATS subject with no empty tokens, spaces or wildcards';
  }
  return undefined;
}

/**
 * JSON with object keys sorted: equal bodies give equal text (the idempotency
 * body hash). Bounded: a value nested deeper than MAX_JSON_DEPTH is `invalid`
 * (the recursion never goes further, whatever the caller hands in).
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (depth >= MAX_JSON_DEPTH) throw new ErrandError('invalid', `the body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`;
}
