import Fastify, { type FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';

/** How the receiver answers one request. */
export interface Answer {
  status: number;
  /** the `Retry-After` header */
  retryAfter?: string;
  /** wait this long before answering (longer than the notifier's timeout = a timeout) */
  delayMs?: number;
  /** the `Location` header (a redirect) */
  location?: string;
}

/** One request as it arrived on the wire. */
export interface Hit {
  path: string;
  /** `webhook-id` (absent for Slack / Discord posts) */
  id: string | undefined;
  /** 1 for the first request with this id (or to this path, without an id) */
  nth: number;
  at: number;
  raw: string;
  body: any;
  /** the signature checked out with the path's secret (true when no secret is registered) */
  verified: boolean;
  answer: Answer;
}

type Script = (nth: number, body: any) => Answer | undefined;

/**
 * A webhook receiver on 127.0.0.1 for end-to-end tests: verifies Standard
 * Webhooks signatures with `standardwebhooks`' `Webhook.verify`, keeps every
 * request, counts acknowledgements by `webhook-id`, and answers per a script
 * (500, 429 + Retry-After, slow, 410 …) chosen per path.
 */
export class Receiver {
  readonly hits: Hit[] = [];
  port = 0;
  private readonly secrets = new Map<string, string>();
  private readonly scripts = new Map<string, Script>();
  private readonly seen = new Map<string, number>();
  private app!: FastifyInstance;

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    const app = Fastify({ logger: false, forceCloseConnections: true });
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.post('/*', async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const path = req.url.split('?')[0]!;
      const id = typeof req.headers['webhook-id'] === 'string' ? req.headers['webhook-id'] : undefined;
      const key = id ?? `path:${path}`;
      const nth = (r.seen.get(key) ?? 0) + 1;
      r.seen.set(key, nth);
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      const secret = r.secrets.get(path);
      let verified = true;
      if (secret !== undefined) {
        try {
          new Webhook(secret).verify(raw, req.headers as Record<string, string>);
        } catch {
          verified = false;
        }
      }
      const answer: Answer = !verified ? { status: 401 } : (r.scripts.get(path)?.(nth, body) ?? { status: 200 });
      r.hits.push({ path, id, nth, at: Date.now(), raw, body, verified, answer });
      if (answer.delayMs) await new Promise((done) => setTimeout(done, answer.delayMs));
      if (answer.retryAfter !== undefined) reply.header('retry-after', answer.retryAfter);
      if (answer.location !== undefined) reply.header('location', answer.location);
      return reply.code(answer.status).send({ ok: answer.status < 300 });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    r.app = app;
    r.port = (app.server.address() as { port: number }).port;
    return r;
  }

  /** A new hook path: `secret` to verify signatures, `script` to choose answers (default 200). */
  hook(name: string, opts: { secret?: string; script?: Script } = {}): string {
    const path = name.startsWith('/') ? name : `/hook/${name}`;
    if (opts.secret !== undefined) this.secrets.set(path, opts.secret);
    if (opts.script) this.scripts.set(path, opts.script);
    return `http://127.0.0.1:${this.port}${path}`;
  }

  hitsTo(url: string): Hit[] {
    const path = new URL(url).pathname;
    return this.hits.filter((h) => h.path === path);
  }

  /** Requests answered 2xx (even late, after the sender gave up), per `webhook-id`. */
  acks(hits: readonly Hit[] = this.hits): Map<string, number> {
    const out = new Map<string, number>();
    for (const h of hits) {
      if (h.id === undefined || h.answer.status >= 300) continue;
      out.set(h.id, (out.get(h.id) ?? 0) + 1);
    }
    return out;
  }

  /** `webhook-id`s received more than once (duplicates on the wire). */
  duplicates(hits: readonly Hit[] = this.hits): string[] {
    const n = new Map<string, number>();
    for (const h of hits) if (h.id !== undefined) n.set(h.id, (n.get(h.id) ?? 0) + 1);
    return [...n].filter(([, c]) => c > 1).map(([id]) => id);
  }

  async close(): Promise<void> {
    await this.app?.close();
  }
}

/** A Standard Webhooks secret: `whsec_` + base64 of random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}
