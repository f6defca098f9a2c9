const encoder = new TextEncoder();

export type EncodedResult = { data: Uint8Array } | { error: { code: 'result_too_large' | 'invalid_result'; message: string } };

/**
 * A handler's result as JSON bytes, or why it cannot be kept: larger than
 * `maxBytes` (`result_too_large`), or not JSON at all (a cycle, a BigInt,
 * nesting too deep for the encoder: `invalid_result`). Neither is worth
 * another attempt: the same handler returns the same kind of value.
 */
export function encodeResult(result: unknown, maxBytes: number): EncodedResult {
  let text: string;
  try {
    text = JSON.stringify(result ?? null);
  } catch (err) {
    return { error: { code: 'invalid_result', message: `the result is not JSON: ${(err as Error).message}`.slice(0, 1000) } };
  }
  // a string's UTF-8 size is at most 3 bytes per UTF-16 unit: skip encoding what is plainly too large
  if (text.length > maxBytes) return tooLarge(text.length, maxBytes);
  const data = encoder.encode(text);
  if (data.length > maxBytes) return tooLarge(data.length, maxBytes);
  return { data };
}

function tooLarge(bytes: number, maxBytes: number): EncodedResult {
  return {
    error: {
      code: 'result_too_large',
      message: `the result is ${bytes} bytes of JSON, over the limit of ${maxBytes} (ERRAND_MAX_RESULT_BYTES): store large outputs elsewhere and return a reference`,
    },
  };
}
