import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyFailure, willRetry } from './failure.ts';
import { TaskError } from '../errors.ts';

describe('classifyFailure', () => {
  it('takes code and retryable from a TaskError', () => {
    expect(classifyFailure(new TaskError('quota', 'no quota', { retryable: false }))).toEqual({ code: 'quota', message: 'no quota', retryable: false });
  });
  it('treats a plain error as a retryable handler_error', () => {
    expect(classifyFailure(new Error('boom'))).toEqual({ code: 'handler_error', message: 'boom', retryable: true });
    expect(classifyFailure('text')).toMatchObject({ code: 'handler_error', message: 'text' });
  });
  it('treats a zod error as invalid_params, never retried', () => {
    const r = z.object({ a: z.number() }).safeParse({});
    expect(classifyFailure(r.error)).toMatchObject({ code: 'invalid_params', retryable: false });
  });
  it('retries only retryable errors with attempts left', () => {
    const f = { code: 'x', message: '', retryable: true };
    expect(willRetry(f, 1, 3)).toBe(true);
    expect(willRetry(f, 3, 3)).toBe(false);
    expect(willRetry({ ...f, retryable: false }, 1, 3)).toBe(false);
  });
});
