import { z } from 'zod';

/** Tokens that become subject parts: tenant, user, taskId, pool. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;

export const tokenSchema = z
  .string()
  .regex(TOKEN_RE, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');

export function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_RE.test(value);
}

/** A task type name: dotted tokens such as `demo.sleep`. */
export const TASK_TYPE_RE = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;
export const taskTypeNameSchema = z
  .string()
  .max(200)
  .regex(TASK_TYPE_RE, 'must be dot-separated tokens of A-Z, a-z, 0-9, "_" or "-"');
