/**
 * Message ids: 10 characters of millisecond time and 12 of randomness in Crockford base32, so ids
 * sort by arrival, read unambiguously over the phone, and cannot be guessed from a neighbour's.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const RANDOM_CHARS = 12;
/** Random bytes fetched in bulk: one small randomBytes() call per id costs more than the rest of the id. */
let pool = Buffer.alloc(0);
let poolOffset = 0;

export function newMessageId(now: number = Date.now()): string {
  let time = '';
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32]! + time;
  if (poolOffset + RANDOM_CHARS > pool.length) {
    pool = randomBytes(RANDOM_CHARS * 256);
    poolOffset = 0;
  }
  let random = '';
  for (let i = 0; i < RANDOM_CHARS; i++) random += ALPHABET[pool[poolOffset++]! & 31]!;
  return time + random;
}

export function isMessageId(value: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{22}$/.test(value);
}
