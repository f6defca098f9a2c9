import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A task id: 26 characters, time-ordered (a ULID), within the token alphabet.
 * Sorting ids sorts tasks by creation.
 */
export function newTaskId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let tail = '';
  for (let i = 0; i < 16; i++) tail += ALPHABET[nextRandomByte() % 32];
  return time + tail;
}

// random bytes drawn 4 KiB at a time: one call per 256 ids instead of one per id
let pool = Buffer.alloc(0);
let at = 0;
function nextRandomByte(): number {
  if (at >= pool.length) {
    pool = randomBytes(4096);
    at = 0;
  }
  return pool[at++]!;
}
