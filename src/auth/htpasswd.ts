/**
 * htpasswd-style credential files (Apache format), used for SMTP AUTH, POP3 and HTTP Basic.
 *
 * One `user:hash` per line. Supported hashes: bcrypt (`$2a$`/`$2b$`/`$2y$`), Apache MD5-crypt
 * (`$apr1$`), `{SHA}` (base64 SHA-1) and plaintext (anything else); ./hash-check.ts knows them and
 * ./verifier.ts runs the checks. Error messages name the file, line and user but never the hash or password.
 */

import { readFile } from 'node:fs/promises';
import { KotakError } from '../errors.js';
import { classifyHash, type PasswordHash } from './hash-check.js';
import type { PasswordVerifier } from './verifier.js';

export interface CredentialStore {
  /**
   * Whether this user has this password. Rejects with `auth_unavailable` when the verifier is too
   * busy to check it now (./verifier.ts): the caller answers "try again later", not "wrong".
   */
  verify(username: string, password: string): Promise<boolean>;
  readonly size: number;
  /** The user names, in file order (for start-up checks; never the hashes). */
  readonly users: readonly string[];
}

/** `verifier` runs the checks: the slow hashes off the thread that serves clients. */
export function parseHtpasswd(text: string, verifier: PasswordVerifier, source = 'htpasswd'): CredentialStore {
  const users = new Map<string, PasswordHash>();
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
    users.set(user, classifyHash(hash) ?? fail(`malformed or unsupported hash for user "${user}"`));
  });

  // Unknown users are checked against the store's slowest hash so response time doesn't reveal
  // which names exist; the result is discarded.
  let slowest: PasswordHash | undefined;
  for (const entry of users.values()) if (!slowest || entry.cost > slowest.cost) slowest = entry;

  return {
    size: users.size,
    users: [...users.keys()],
    async verify(username, password) {
      const entry = users.get(username);
      if (entry) return verifier.matches(entry, password);
      if (slowest) await verifier.matches(slowest, password);
      return false;
    },
  };
}

export async function loadHtpasswd(path: string, verifier: PasswordVerifier): Promise<CredentialStore> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new KotakError('invalid_config', `cannot read htpasswd file ${path}: ${reason}`, { cause: err });
  }
  return parseHtpasswd(text, verifier, path);
}
