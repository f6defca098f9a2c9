// The /v1 API as the dashboard uses it: the API key (kept in this browser) as a bearer token,
// errors as thrown ApiErrors, and SSE read with fetch (EventSource cannot send a header).
const KEY = 'errand.apiKey';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const auth = {
  get key() {
    return localStorage.getItem(KEY);
  },
  set key(value) {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  },
  headers() {
    const k = this.key;
    return k ? { authorization: `Bearer ${k}` } : {};
  },
};

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { ...auth.headers(), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json?.error ?? {};
    throw new ApiError(res.status, e.code ?? 'error', e.message ?? `${res.status} ${res.statusText}`);
  }
  return json;
}

/**
 * Read an SSE stream until `signal` aborts, calling onEvent({event, data, id}).
 * Reconnects after a dropped connection (with Last-Event-ID when the server gave ids);
 * `onOpen` runs at each (re)connection, `onEnd` when the server closed the stream on purpose.
 */
export async function stream(path, { signal, onEvent, onOpen, onEnd, reconnect = true }) {
  let lastId;
  for (let delay = 500; !signal.aborted; delay = Math.min(delay * 2, 10_000)) {
    try {
      const headers = { ...auth.headers(), accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      const res = await fetch(path, { headers, signal });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new ApiError(res.status, body.error?.code ?? 'error', body.error?.message ?? res.statusText);
      }
      delay = 500;
      onOpen?.();
      await readEvents(res.body, (ev) => {
        if (ev.id !== undefined) lastId = ev.id;
        onEvent(ev);
      });
      // the server ends a task's stream after its terminal event
      if (!reconnect) return onEnd?.();
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status < 500) throw err;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let ev = {};
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      if (line === '') {
        if (ev.data !== undefined) onEvent({ ...ev, data: JSON.parse(ev.data) });
        ev = {};
      } else if (!line.startsWith(':')) {
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (field === 'data') ev.data = ev.data === undefined ? v : `${ev.data}\n${v}`;
        else if (field === 'event' || field === 'id') ev[field] = v;
      }
    }
  }
}
