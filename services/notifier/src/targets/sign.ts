import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of one try. A `whsec_` secret is base64 after
 * the prefix (the spec's format); any other secret is used as its UTF-8 bytes.
 * Each try is signed again with its own timestamp, under the same `webhook-id`.
 * During a secret rotation the target's `secret` holds several secrets
 * separated by spaces (new first); each signs, and `webhook-signature` lists
 * every signature, space-separated, as the spec allows: a receiver holding
 * either secret accepts the message.
 */
export function signWebhook(secret: string, id: string, at: Date, body: string): Record<string, string> {
  const signatures = secret
    .split(/\s+/)
    .filter(Boolean)
    .map((s) => (s.startsWith('whsec_') ? new Webhook(s) : new Webhook(new TextEncoder().encode(s), { format: 'raw' })))
    .map((wh) => wh.sign(id, at, body));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
