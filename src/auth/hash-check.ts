/**
 * The password hashes an htpasswd file may hold, and the check of a password against one. Pure and
 * synchronous: the slow schemes (bcrypt, apr1) run in the verifier's worker threads
 * (./verifier.ts), the fast ones (SHA-1, plain) on the calling thread.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import aprMd5 from 'apache-md5';
import bcrypt from 'bcryptjs';

export type HashScheme = 'bcrypt' | 'apr1' | 'sha' | 'plain';

export interface PasswordHash {
  readonly scheme: HashScheme;
  readonly hash: string;
  /** Relative verification cost, so unknown users can be checked against the slowest entry. */
  readonly cost: number;
}

/** Schemes that cost milliseconds or more per check: these never run on the thread that serves clients. */
export function isSlowScheme(scheme: HashScheme): boolean {
  return scheme === 'bcrypt' || scheme === 'apr1';
}

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$([^$]{0,8})\$([./0-9A-Za-z]{22})$/;
const SHA = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;
/** Looks like a crypt(3) hash we don't implement (`$1$`, `$5$`, `$6$`, ...). */
const OTHER_CRYPT = /^\$[0-9a-z]+\$/;

/** What kind of hash `hash` is, or undefined when it is malformed or of a scheme we don't implement. */
export function classifyHash(hash: string): PasswordHash | undefined {
  const bcryptMatch = BCRYPT.exec(hash);
  if (bcryptMatch) return { scheme: 'bcrypt', hash, cost: 1000 + Number(bcryptMatch[1]) };
  if (hash.startsWith('$2')) return undefined;
  if (hash.startsWith('$apr1$')) return APR1.test(hash) ? { scheme: 'apr1', hash, cost: 3 } : undefined;
  if (hash.startsWith('{SHA}')) return SHA.test(hash) ? { scheme: 'sha', hash, cost: 2 } : undefined;
  // Falling back to plaintext here would make the literal hash string the password.
  if (OTHER_CRYPT.test(hash)) return undefined;
  return { scheme: 'plain', hash, cost: 1 };
}

/** Whether `password` matches; every comparison of secrets is constant-time. */
export function matchesHash(entry: PasswordHash, password: string): boolean {
  switch (entry.scheme) {
    case 'bcrypt':
      return bcrypt.compareSync(password, entry.hash); // bcryptjs accepts $2a$, $2b$ and $2y$ as-is
    case 'apr1':
      return matchesApr1(entry.hash, password);
    case 'sha':
      return safeEqual(`{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`, entry.hash);
    case 'plain':
      return safeEqual(password, entry.hash);
  }
}

/**
 * apache-md5 hashes JavaScript strings as one byte per character, while Apache's htpasswd hashes
 * the password's UTF-8 bytes: handing it the UTF-8 bytes as a one-byte-per-character ("binary")
 * string makes the two agree for any password. The salt is copied the same way and only the
 * digest after it is compared, so an unusual salt character cannot spoil the comparison.
 */
function matchesApr1(hash: string, password: string): boolean {
  const [, salt = '', digest = ''] = APR1.exec(hash) ?? [];
  const binary = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
  const computed = aprMd5(binary(password), `$apr1$${binary(salt)}$`);
  return safeEqual(computed.slice(computed.lastIndexOf('$') + 1), digest);
}

/** Constant-time string comparison; hashing first gives timingSafeEqual the equal lengths it needs. */
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
