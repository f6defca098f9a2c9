import { describe, expect, it } from 'vitest';
import { ErrandClient } from './http.ts';
import { ErrandClientError } from './errors.ts';

type Call = { url: string; init: RequestInit | undefined };
const at = '2025-01-01T00:00:00.000Z';
const ev = (type: string, extra: Record<string, unknown> = {}) => ({ type, taskId: 'T1', tenant: 'default', at, ...extra });
const sse = (seq: number, e: { type: string }) => `id: ${seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

/** A body that sends `parts` and then either closes or breaks (like a dropped connection). */
function body(parts: string[], breaks = false): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const queue = parts.map((p) => enc.encode(p));
  return new ReadableStream({
    pull(c) {
      const next = queue.shift();
      if (next) c.enqueue(next);
      else if (breaks) c.error(new TypeError('terminated'));
      else c.close();
    },
  });
}

function fakeFetch(answers: ((call: Call) => Response)[]) {
  const calls: Call[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(input), init };
    calls.push(call);
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${call.url}`);
    return next(call);
  }) as typeof fetch;
  return { fn, calls };
}

const header = (c: Call, name: string) => (c.init?.headers as Record<string, string> | undefined)?.[name];

describe('ErrandClient', () => {
  it('submits with the API key and a JSON body', async () => {
    const { fn, calls } = fakeFetch([() => Response.json({ id: 'T1', state: 'queued', position: 0 }, { status: 202 })]);
    const client = new ErrandClient({ baseUrl: 'http://errand.test/', apiKey: 'k1', fetch: fn });
    await expect(client.submit({ type: 'demo.noop' })).resolves.toEqual({ id: 'T1', state: 'queued', position: 0 });
    expect(calls[0]!.url).toBe('http://errand.test/v1/tasks');
    expect(calls[0]!.init?.method).toBe('POST');
    expect(header(calls[0]!, 'authorization')).toBe('Bearer k1');
    expect(JSON.parse(String(calls[0]!.init?.body))).toEqual({ type: 'demo.noop' });
  });

  it('turns an error body into an ErrandClientError with its code', async () => {
    const { fn } = fakeFetch([
      () => Response.json({ error: { code: 'queue_full', message: 'too many pending', details: { max: 10 } } }, { status: 429 }),
    ]);
    const err = await new ErrandClient({ fetch: fn }).submit({ type: 'demo.noop' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ErrandClientError);
    expect(err).toMatchObject({ code: 'queue_full', status: 429, retryable: true, details: { max: 10 } });
  });

  it('builds list queries', async () => {
    const { fn, calls } = fakeFetch([() => Response.json({ items: [], nextCursor: null })]);
    await new ErrandClient({ fetch: fn }).list({ state: 'queued', limit: 5 });
    expect(calls[0]!.url).toBe('http://127.0.0.1:8080/v1/tasks?state=queued&limit=5');
  });

  it('watch resumes with Last-Event-ID after a dropped stream, without repeats', async () => {
    const { fn, calls } = fakeFetch([
      () => new Response(body([sse(1, ev('submitted')), sse(2, ev('queued', { position: 0 }))], true)),
      () => new Response(body([': keep-alive\n\n', sse(3, ev('completed', { attempt: 1, result: 42 }))])),
    ]);
    const client = new ErrandClient({ fetch: fn });
    const seen = [];
    for await (const w of client.watch('T1', { retryDelayMs: 1 })) seen.push([w.seq, w.event.type]);
    expect(seen).toEqual([
      [1, 'submitted'],
      [2, 'queued'],
      [3, 'completed'],
    ]);
    expect(header(calls[0]!, 'last-event-id')).toBeUndefined();
    expect(header(calls[1]!, 'accept')).toBe('text/event-stream');
    expect(header(calls[1]!, 'last-event-id')).toBe('2');
  });

  it('watch does not stop at an end that a later retry reopened', async () => {
    const { fn } = fakeFetch([
      () =>
        new Response(
          body([
            sse(1, ev('failed', { attempt: 1, error: { code: 'x', message: 'y' }, willRetry: false })),
            sse(2, ev('retry-requested', { by: 'u' })),
            sse(3, ev('completed', { attempt: 2 })),
          ]),
        ),
    ]);
    const types = [];
    for await (const w of new ErrandClient({ fetch: fn }).watch('T1')) types.push(w.event.type);
    expect(types).toEqual(['failed', 'retry-requested', 'completed']);
  });

  it('watch gives up at once on an answer that will not change', async () => {
    const { fn } = fakeFetch([() => Response.json({ error: { code: 'not_found', message: 'no such task' } }, { status: 404 })]);
    const it = new ErrandClient({ fetch: fn }).watch('T9');
    await expect(it.next()).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });
});
