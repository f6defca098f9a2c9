import { z } from 'zod';

const name = z.string().min(1).max(100).optional();

/** Delivery targets as a client submits them (secrets in clear, only here). */
export const natsTargetSchema = z.strictObject({ kind: z.literal('nats'), name, subject: z.string().min(1).max(255) });
export const webhookTargetSchema = z.strictObject({
  kind: z.literal('webhook'),
  name,
  url: z.string().min(1).max(2048),
  secret: z.string().min(8).max(512),
});
export const slackTargetSchema = z.strictObject({ kind: z.literal('slack'), name, url: z.string().min(1).max(2048) });
export const discordTargetSchema = z.strictObject({ kind: z.literal('discord'), name, url: z.string().min(1).max(2048) });
export const memoryTargetSchema = z.strictObject({ kind: z.literal('memory'), name });
/** An addition to DESIGN.md's kinds: the final message by e-mail (SMTP, ERRAND_SMTP_URL). */
export const emailTargetSchema = z.strictObject({ kind: z.literal('email'), name, to: z.email().max(254) });

export const targetInputSchema = z.discriminatedUnion('kind', [
  natsTargetSchema,
  webhookTargetSchema,
  slackTargetSchema,
  discordTargetSchema,
  memoryTargetSchema,
  emailTargetSchema,
]);
export type TargetInput = z.infer<typeof targetInputSchema>;

/**
 * Targets as they are stored in `submitted` events: no secret in clear.
 * A webhook's secret, and a Slack or Discord URL (which is itself a credential),
 * are kept encrypted under `secretRef`; `secretHint` is the last 4 characters.
 * `host` is the URL's host, safe to show.
 */
const secretFields = { secretRef: z.string().min(1).max(200), secretHint: z.string().max(4) };
export const storedTargetSchema = z.discriminatedUnion('kind', [
  natsTargetSchema,
  z.object({ kind: z.literal('webhook'), name, url: z.string(), ...secretFields }),
  z.object({ kind: z.literal('slack'), name, host: z.string().optional(), ...secretFields }),
  z.object({ kind: z.literal('discord'), name, host: z.string().optional(), ...secretFields }),
  memoryTargetSchema,
  emailTargetSchema,
]);
export type StoredTarget = z.infer<typeof storedTargetSchema>;
export type TargetKind = StoredTarget['kind'];
