import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@errand/config';

/** AES-256-GCM with a key derived from ERRAND_SECRET_KEY. Output: base64 of iv | tag | ciphertext. */
export class SecretBox {
  private readonly key: Buffer;
  constructor(secret: string) {
    if (secret.length < 16) throw new Error('ERRAND_SECRET_KEY must be at least 16 characters');
    this.key = createHash('sha256').update(secret).digest();
  }
  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }
  open(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }
}

/**
 * The secret key: ERRAND_SECRET_KEY, or in development mode a generated key
 * kept in the data folder (created once, shared by the services on this machine).
 */
export function loadSecretKey(cfg: Pick<Config, 'ERRAND_SECRET_KEY' | 'devMode' | 'ERRAND_DATA_DIR'>): string {
  if (cfg.ERRAND_SECRET_KEY) return cfg.ERRAND_SECRET_KEY;
  if (!cfg.devMode) throw new Error('ERRAND_SECRET_KEY is required when ERRAND_API_KEYS is set');
  mkdirSync(cfg.ERRAND_DATA_DIR, { recursive: true });
  const file = join(cfg.ERRAND_DATA_DIR, 'secret.key');
  // Several services start at once and race to create the key. The key is
  // written whole to a file of this process's own, then linked into place:
  // the link either creates the complete file or fails because it exists,
  // so no process ever reads a key half-written.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, randomBytes(32).toString('base64'), { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  const key = readFileSync(file, 'utf8').trim();
  if (!key) throw new Error(`${file} is empty: remove it and start again`);
  return key;
}

/** The last 4 characters of a secret, safe to show. */
export function secretHint(secret: string): string {
  return secret.slice(-4);
}
