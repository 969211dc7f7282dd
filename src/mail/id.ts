/**
 * Message ids: 10 characters of millisecond time and 12 of randomness in Crockford base32, so ids
 * sort by arrival, read unambiguously over the phone, and cannot be guessed from a neighbour's.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newMessageId(now: number = Date.now()): string {
  let time = '';
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32]! + time;
  let random = '';
  for (const byte of randomBytes(12)) random += ALPHABET[byte & 31]!;
  return time + random;
}

export function isMessageId(value: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{22}$/.test(value);
}
