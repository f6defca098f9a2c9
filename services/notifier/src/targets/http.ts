import http from 'node:http';
import https from 'node:https';
import { checkTargetUrl, connectLookup, UrlRefused, type AllowList } from '@errand/netguard';
import { classifyStatus, type Verdict } from '../domain/retry.ts';

export interface PostOptions {
  allow: AllowList;
  /** the whole try, connect to last byte (default 15 s) */
  timeoutMs?: number;
  /** response bytes read (then discarded) before the connection is dropped (default 64 KiB) */
  maxResponseBytes?: number;
  now?: () => number;
}

/** Where a request went, safe to log: the host only (a Slack or Discord URL is itself a secret). */
export function safeHost(raw: string): string {
  try {
    return new URL(raw).host;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * One POST of a JSON body, never following redirects, with the SSRF guard
 * both before (URL check) and at connect time (every resolved address).
 * Never throws: every outcome is a `Verdict` whose error string names no secret.
 */
export async function postJson(rawUrl: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<Verdict> {
  let url: URL;
  try {
    url = checkTargetUrl(rawUrl, opts.allow);
  } catch (err) {
    // the "not a valid URL" message quotes the URL, which may be the secret itself
    const why = err instanceof UrlRefused && !err.message.startsWith('"') ? `: ${err.message}` : '';
    return { kind: 'fail', error: `target URL refused${why}` };
  }
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxBytes = opts.maxResponseBytes ?? 64 * 1024;
  const now = opts.now ?? Date.now;
  const lib = url.protocol === 'https:' ? https : http;
  return await new Promise<Verdict>((resolve) => {
    let settled = false;
    const done = (v: Verdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(v);
    };
    const req = lib.request(
      url,
      {
        method: 'POST',
        agent: false,
        lookup: connectLookup(opts.allow, url.hostname) as never,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'errand-notifier', ...headers },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = headerValue(res.headers['retry-after']);
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxBytes) {
            // enough: the body is discarded anyway; the status already decided
            res.destroy();
            done(classifyStatus(status, retryAfter, now()));
          }
        });
        res.on('end', () => done(classifyStatus(status, retryAfter, now())));
        res.on('error', () => done(classifyStatus(status, retryAfter, now())));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ kind: 'retry', error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EREFUSED_BY_GUARD') done({ kind: 'fail', error: `refused: ${err.message}` });
      else done({ kind: 'retry', error: `network error${err.code ? ` (${err.code})` : ''}` });
    });
    req.end(body);
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
