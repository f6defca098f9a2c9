import type { NatsConnection } from '@nats-io/transport-node';
import { subjects, type ApiVerb } from '@errand/contracts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type ApiReply = { ok: true; body: Record<string, unknown> } | { ok: false; error: string };

/** One request on `errand.api.<tenant>.<verb>`; an error body or a NATS error is a `{ok: false}`. */
export async function api(nc: NatsConnection, tenant: string, verb: ApiVerb, body: unknown, timeoutMs = 30_000): Promise<ApiReply> {
  try {
    const m = await nc.request(subjects.api(tenant, verb), encoder.encode(JSON.stringify(body)), { timeout: timeoutMs });
    const parsed = JSON.parse(decoder.decode(m.data)) as Record<string, unknown>;
    if (parsed.error) {
      const e = parsed.error as { code?: string; message?: string };
      return { ok: false, error: `${e.code}: ${e.message}` };
    }
    return { ok: true, body: parsed };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Counts errors by message, to print a short summary instead of thousands of lines. */
export class ErrorTally {
  readonly byMessage = new Map<string, number>();
  add(msg: string): void {
    this.byMessage.set(msg, (this.byMessage.get(msg) ?? 0) + 1);
  }
  get total(): number {
    let n = 0;
    for (const v of this.byMessage.values()) n += v;
    return n;
  }
  summary(): string {
    return [...this.byMessage].map(([m, n]) => `${n}× ${m}`).join('; ');
  }
}
