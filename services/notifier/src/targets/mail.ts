import { createTransport } from 'nodemailer';
import type { Mailer } from './send.ts';

/** `email` targets go through nodemailer's SMTP transport (ERRAND_SMTP_URL, credentials in the URL). */
export function mailerFrom(smtpUrl: string, from: string): { send: Mailer; from: string } {
  const transport = createTransport(smtpUrl);
  return { from, send: (mail) => transport.sendMail(mail) };
}
