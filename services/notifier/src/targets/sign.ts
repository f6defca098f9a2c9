import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of one try. A `whsec_` secret is base64 after
 * the prefix (the spec's format); any other secret is used as its UTF-8 bytes.
 * Each try is signed again with its own timestamp, under the same `webhook-id`.
 */
export function signWebhook(secret: string, id: string, at: Date, body: string): Record<string, string> {
  const wh = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': wh.sign(id, at, body),
  };
}
