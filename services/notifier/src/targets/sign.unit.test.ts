import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { signWebhook } from './sign.ts';

describe('signWebhook', () => {
  const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
  it('signs per Standard Webhooks: verify() accepts it', () => {
    const body = JSON.stringify({ type: 'completed', taskId: 'T1' });
    const h = signWebhook(secret, 'T1-5-0', new Date(), body);
    expect(h['webhook-id']).toBe('T1-5-0');
    expect(h['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(new Webhook(secret).verify(body, h)).toEqual({ type: 'completed', taskId: 'T1' });
  });
  it('a changed body or another secret fails verification', () => {
    const h = signWebhook(secret, 'id', new Date(), '{"a":1}');
    expect(() => new Webhook(secret).verify('{"a":2}', h)).toThrow();
    const other = `whsec_${Buffer.from('another-secret-another-secret-xx').toString('base64')}`;
    expect(() => new Webhook(other).verify('{"a":1}', h)).toThrow();
  });
  it('uses a secret without the whsec_ prefix as raw bytes', () => {
    const h = signWebhook('plain-secret-123', 'id', new Date(), '{}');
    const raw = new Webhook(new TextEncoder().encode('plain-secret-123'), { format: 'raw' });
    expect(raw.verify('{}', h)).toEqual({});
  });

  it('signs with every secret during a rotation, so a receiver with either accepts', () => {
    const next = `whsec_${Buffer.from('the-new-secret-the-new-secret-xx').toString('base64')}`;
    const h = signWebhook(`${next} ${secret}`, 'id', new Date(), '{"b":1}');
    expect(h['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(secret).verify('{"b":1}', h)).toEqual({ b: 1 });
    expect(new Webhook(next).verify('{"b":1}', h)).toEqual({ b: 1 });
  });
});
