import { z } from 'zod';

/** Tokens that become subject parts: tenant, user, taskId, pool. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;

export const tokenSchema = z
  .string()
  .regex(TOKEN_RE, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');

export function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_RE.test(value);
}

/** A task type name (DESIGN.md "Task types and workers"), such as `demo.sleep`. */
export const TASK_TYPE_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
export const taskTypeNameSchema = z
  .string()
  .regex(TASK_TYPE_RE, 'must start with a letter and have at most 64 characters of A-Z, a-z, 0-9, "_", "." or "-"');

/**
 * The type's name with every character outside `[A-Za-z0-9_-]` replaced by `_`:
 * its MCP tool name, and the token of its work subject and consumer. Workers refuse
 * at start a type whose token equals another's, so it names the type uniquely.
 */
export function typeToken(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}
