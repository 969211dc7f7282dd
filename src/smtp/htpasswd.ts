/**
 * htpasswd-style credential files (Apache format), used for SMTP AUTH and later POP3/HTTP auth.
 *
 * One `user:hash` per line. Supported hashes: bcrypt (`$2a$`/`$2b$`/`$2y$`), Apache MD5-crypt
 * (`$apr1$`), `{SHA}` (base64 SHA-1) and plaintext (anything else). Error messages name the file,
 * line and user but never the hash or password.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { KotakError } from '../errors.js';

export interface CredentialStore {
  verify(username: string, password: string): Promise<boolean>;
  readonly size: number;
}

type Scheme = 'bcrypt' | 'apr1' | 'sha' | 'plain';

interface Entry {
  readonly scheme: Scheme;
  readonly hash: string;
  /** Relative verification cost, so unknown users can be checked against the slowest entry. */
  readonly cost: number;
}

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$([^$]{0,8})\$[./0-9A-Za-z]{22}$/;
const SHA = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;
/** Looks like a crypt(3) hash we don't implement (`$1$`, `$5$`, `$6$`, ...). */
const OTHER_CRYPT = /^\$[0-9a-z]+\$/;

export function parseHtpasswd(text: string, source = 'htpasswd'): CredentialStore {
  const users = new Map<string, Entry>();
  const lines = text.replace(/^\uFEFF/, '').split('\n');

  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const fail = (reason: string): never => {
      throw new KotakError('invalid_config', `${source}:${index + 1}: ${reason}`);
    };

    const colon = line.indexOf(':');
    if (colon < 0) fail('expected "user:hash"');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (user === '') fail('empty user name');
    // An empty plaintext password would let anyone in with a blank password; treat it as a mistake.
    if (hash === '') fail(`empty password hash for user "${user}"`);
    if (users.has(user)) fail(`duplicate user "${user}"`);
    users.set(user, classify(hash) ?? fail(`malformed or unsupported hash for user "${user}"`));
  });

  // Unknown users are checked against the store's slowest hash so response time doesn't reveal
  // which names exist; the result is discarded.
  let slowest: Entry | undefined;
  for (const entry of users.values()) if (!slowest || entry.cost > slowest.cost) slowest = entry;

  return {
    size: users.size,
    async verify(username, password) {
      const entry = users.get(username);
      if (entry) return check(entry, password);
      if (slowest) await check(slowest, password);
      return false;
    },
  };
}

export async function loadHtpasswd(path: string): Promise<CredentialStore> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new KotakError('invalid_config', `cannot read htpasswd file ${path}: ${reason}`, { cause: err });
  }
  return parseHtpasswd(text, path);
}

function classify(hash: string): Entry | undefined {
  const bcryptMatch = BCRYPT.exec(hash);
  if (bcryptMatch) return { scheme: 'bcrypt', hash, cost: 1000 + Number(bcryptMatch[1]) };
  if (hash.startsWith('$2')) return undefined;
  if (hash.startsWith('$apr1$')) return APR1.test(hash) ? { scheme: 'apr1', hash, cost: 3 } : undefined;
  if (hash.startsWith('{SHA}')) return SHA.test(hash) ? { scheme: 'sha', hash, cost: 2 } : undefined;
  // Falling back to plaintext here would make the literal hash string the password.
  if (OTHER_CRYPT.test(hash)) return undefined;
  return { scheme: 'plain', hash, cost: 1 };
}

async function check(entry: Entry, password: string): Promise<boolean> {
  switch (entry.scheme) {
    case 'bcrypt':
      return bcrypt.compare(password, entry.hash); // bcryptjs accepts $2a$, $2b$ and $2y$ as-is
    case 'apr1':
      return safeEqual(apr1(password, APR1.exec(entry.hash)?.[1] ?? ''), entry.hash);
    case 'sha':
      return safeEqual(`{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`, entry.hash);
    case 'plain':
      return safeEqual(password, entry.hash);
  }
}

/** Constant-time string comparison; hashing first gives timingSafeEqual the equal lengths it needs. */
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Apache's `$apr1$` variant of Poul-Henning Kamp's MD5-crypt (identical except for the magic string). */
function apr1(password: string, salt: string): string {
  const magic = '$apr1$';
  const pw = Buffer.from(password, 'utf8');
  const saltBytes = Buffer.from(salt.slice(0, 8), 'utf8');
  const md5 = (...parts: Buffer[]) => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };

  const alternate = md5(pw, saltBytes, pw);
  const parts: Buffer[] = [pw, Buffer.from(magic), saltBytes];
  for (let left = pw.length; left > 0; left -= 16) parts.push(alternate.subarray(0, Math.min(16, left)));
  // The historical quirk: a zero byte for each set bit of the length, the first password byte otherwise.
  for (let i = pw.length; i > 0; i >>= 1) parts.push(i & 1 ? Buffer.alloc(1) : pw.subarray(0, 1));
  let digest = md5(...parts);

  // 1000 rounds, deliberately slow.
  for (let i = 0; i < 1000; i++) {
    const round: Buffer[] = [i & 1 ? pw : digest];
    if (i % 3) round.push(saltBytes);
    if (i % 7) round.push(pw);
    round.push(i & 1 ? digest : pw);
    digest = md5(...round);
  }

  // Custom base64 over a fixed byte permutation, 3 bytes → 4 chars, then the last byte → 2 chars.
  const encode = (value: number, chars: number) => {
    let out = '';
    for (let i = 0; i < chars; i++, value >>= 6) out += ITOA64[value & 0x3f];
    return out;
  };
  const d = (i: number) => digest[i] ?? 0;
  const triples = [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]] as const;
  let encoded = '';
  for (const [a, b, c] of triples) encoded += encode((d(a) << 16) | (d(b) << 8) | d(c), 4);
  encoded += encode(d(11), 2);

  return `${magic}${salt.slice(0, 8)}$${encoded}`;
}
