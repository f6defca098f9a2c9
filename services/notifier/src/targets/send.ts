import type { KV } from '@nats-io/kv';
import { encodeJson, kvKeys, subjects, type ErrandEvent, type StoredTarget, type TaskView } from '@errand/contracts';
import { isNatsUnavailable, publishWithRetry, type JetStreamPublisher } from '@errand/nats';
import type { SecretStore } from '@errand/secrets';
import type { AllowList } from '@errand/netguard';
import type { Verdict } from '../domain/retry.ts';
import { postJson } from './http.ts';
import { signWebhook } from './sign.ts';

/** One message for one target: what every kind of target is built from. */
export interface Outgoing {
  deliveryId: string;
  event: ErrandEvent;
  view: TaskView;
  text: string;
  /** the memory value (final messages only) */
  memory?: Record<string, unknown>;
}

/** Sends one mail (nodemailer's `sendMail` of a transport built from ERRAND_SMTP_URL). */
export type Mailer = (mail: { from: string; to: string; subject: string; text: string; messageId: string; headers: Record<string, string> }) => Promise<unknown>;

export interface SendDeps {
  /** present when ERRAND_SMTP_URL is set */
  mail?: { send: Mailer; from: string };
  allow: AllowList;
  secrets: SecretStore;
  publisher: JetStreamPublisher;
  memoryKv: () => Promise<KV>;
  httpTimeoutMs: number;
  now: () => number;
}

export const DISCORD_MAX = 2000;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

async function secretOf(deps: SendDeps, ref: string): Promise<string | Verdict> {
  try {
    const s = await deps.secrets.get(ref);
    return s ?? { kind: 'fail', error: 'the target secret is missing' };
  } catch (err) {
    // a KV hiccup may pass; a secret that does not decrypt (wrong ERRAND_SECRET_KEY) will not
    return isNatsUnavailable(err) ? { kind: 'retry', error: 'could not read the target secret' } : { kind: 'fail', error: 'the target secret cannot be decrypted' };
  }
}

/** Try one delivery once. Never throws; error strings name no secret. */
export async function sendOnce(target: StoredTarget, out: Outgoing, deps: SendDeps): Promise<Verdict> {
  const body = () => JSON.stringify({ ...out.event, task: out.view, text: out.text });
  switch (target.kind) {
    case 'nats': {
      if (!target.subject.startsWith(subjects.notifyPrefix(out.event.tenant))) {
        return { kind: 'fail', error: `subject must start with ${subjects.notifyPrefix(out.event.tenant)}` };
      }
      try {
        await publishWithRetry(deps.publisher, target.subject, new TextEncoder().encode(body()), { msgID: out.deliveryId, attempts: 3 });
        return { kind: 'ok' };
      } catch (err) {
        return { kind: 'retry', error: `NATS publish failed: ${(err as Error).message}` };
      }
    }
    case 'memory': {
      if (!out.memory) return { kind: 'ok' };
      try {
        const kv = await deps.memoryKv();
        await kv.put(kvKeys.memory(out.event.tenant, out.view.user, out.event.taskId), encodeJson(out.memory));
        return { kind: 'ok' };
      } catch (err) {
        return { kind: 'retry', error: `memory write failed: ${(err as Error).message}` };
      }
    }
    case 'webhook': {
      const secret = await secretOf(deps, target.secretRef);
      if (typeof secret !== 'string') return secret;
      const b = body();
      const headers = signWebhook(secret, out.deliveryId, new Date(deps.now()), b);
      return await postJson(target.url, b, headers, { allow: deps.allow, timeoutMs: deps.httpTimeoutMs, now: deps.now });
    }
    case 'slack':
    case 'discord': {
      const url = await secretOf(deps, target.secretRef);
      if (typeof url !== 'string') return url;
      const b = target.kind === 'slack' ? { text: out.text } : { content: cut(out.text, DISCORD_MAX) };
      return await postJson(url, JSON.stringify(b), {}, { allow: deps.allow, timeoutMs: deps.httpTimeoutMs, now: deps.now });
    }
    case 'email': {
      if (!deps.mail) return { kind: 'fail', error: 'email delivery is not configured (ERRAND_SMTP_URL)' };
      try {
        // the same Message-ID on every try: a mail system that sees it twice can tell
        await deps.mail.send({
          from: deps.mail.from,
          to: target.to,
          subject: cut(out.text.split(/(?<=\.)\s/)[0] ?? out.text, 150),
          text: out.text,
          messageId: `<${out.deliveryId}@errand>`,
          headers: { 'X-Errand-Task': out.event.taskId, 'X-Errand-Delivery': out.deliveryId },
        });
        return { kind: 'ok' };
      } catch (err) {
        // SMTP 5xx is final (bad address, refused); anything else may pass
        const code = (err as { responseCode?: number }).responseCode ?? 0;
        const error = `SMTP ${code || 'error'}: ${(err as Error).message.slice(0, 200)}`;
        return code >= 500 ? { kind: 'fail', error } : { kind: 'retry', error };
      }
    }
    default: {
      const never: never = target;
      return never;
    }
  }
}
