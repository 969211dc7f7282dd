/**
 * Who may use the HTTP side (the inbox, the API and both WebSockets) once `--http-auth` or
 * `--http-token` is set: HTTP Basic against an htpasswd file, or an API token sent as
 * `Authorization: Bearer <token>`. A token is also accepted as the Basic password (any user name),
 * so a browser's login prompt and clients that only speak Basic (Mailpit's and MailHog's) work
 * with a token alone.
 *
 * Each login carries the mailboxes it may see (src/mail/mailbox-scope.ts): a token's from its
 * line of `--http-token-file`, a user's from `--http-auth-mailboxes`; `--http-token` and users
 * without that file see every mailbox.
 *
 * Every secret is compared in constant time: tokens as SHA-256 digests with timingSafeEqual, each
 * configured token checked without stopping at a match; passwords by the htpasswd store (bcrypt,
 * or timingSafeEqual on digests; unknown users cost as much as known ones).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { KotakError } from '../errors.js';
import type { Grant } from '../auth/mailbox-grants.js';
import { ALL_MAILBOXES, onlyMailboxes, type MailboxScope } from '../mail/mailbox-scope.js';

/** The htpasswd store's contract (src/auth/htpasswd.ts), all this module needs of it. */
export interface PasswordCheck {
  verify(username: string, password: string): Promise<boolean>;
}

export type AuthCheck =
  /** `user` is null for a Bearer token; `scope` is what this login may see. */
  | { readonly ok: true; readonly user: string | null; readonly scope: MailboxScope }
  | { readonly ok: false; readonly reason: 'missing' | 'wrong' }
  /** Too many wrong passwords from this client lately; try again after `retryAfterS` seconds. */
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterS: number };

export interface HttpAuth {
  /**
   * Checks the value of an `Authorization` header (undefined when the request has none) sent from
   * the address `client` (wrong passwords are counted per address).
   */
  check(authorization: string | undefined, client?: string): Promise<AuthCheck>;
}

/** The challenge that makes a browser ask for a user name and password. */
export const AUTH_CHALLENGE = 'Basic realm="Kotak", charset="UTF-8"';

/**
 * bcrypt costs tens of milliseconds of CPU per check and the inbox makes a request per click, so
 * a Basic header that verified is remembered for a while. The key is an HMAC of the whole header
 * under a key made at start: looking it up reveals nothing about any secret through timing.
 * Failures are never remembered, so guessing always pays full price.
 */
const VERIFIED_TTL_MS = 5 * 60_000;
const MAX_VERIFIED = 1000;

/**
 * Password guessing: after this many wrong Basic passwords from one address in a window, that
 * address's new Basic logins are refused (429) without being checked until the window ends. A
 * browser already logged in keeps working (its header is remembered, above), and tokens are not
 * affected, as Bearer or as the Basic password: they are long and random, and a CI job behind the
 * same proxy must not be locked out.
 */
const FAILURE_WINDOW_MS = 60_000;
const MAX_FAILURES_PER_WINDOW = 10;
const MAX_TRACKED_CLIENTS = 10_000;

export interface HttpAuthSettings {
  /** From `--http-auth` (an htpasswd file); null without one. */
  readonly passwords: PasswordCheck | null;
  /** From `--http-token` (every mailbox) and `--http-token-file` (each line's mailboxes). */
  readonly tokens: readonly Grant[];
  /**
   * From `--http-auth-mailboxes`: each user's mailboxes. Null without that file: every user sees
   * every mailbox. With it, a user it leaves out sees none.
   */
  readonly userScopes?: ReadonlyMap<string, MailboxScope> | null;
}

const NO_MAILBOX = onlyMailboxes([]);

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export function createHttpAuth(settings: HttpAuthSettings, options: { now?: () => number } = {}): HttpAuth {
  const now = options.now ?? Date.now;
  const tokenDigests = settings.tokens.map((grant) => sha256(grant.name));
  const userScopes = settings.userScopes ?? null;
  const scopeOfUser = (user: string): MailboxScope => (userScopes === null ? ALL_MAILBOXES : userScopes.get(user) ?? NO_MAILBOX);
  const cacheKey = randomBytes(32);
  const verified = new Map<string, { user: string; scope: MailboxScope; expires: number }>();
  const failures = new Map<string, { count: number; windowEnds: number }>();

  /** Seconds until `client` may try a password again, or 0 when it may now. */
  function lockedFor(client: string): number {
    const entry = failures.get(client);
    if (!entry) return 0;
    const left = entry.windowEnds - now();
    if (left <= 0) {
      failures.delete(client);
      return 0;
    }
    return entry.count >= MAX_FAILURES_PER_WINDOW ? Math.ceil(left / 1000) : 0;
  }

  function recordFailure(client: string): void {
    const entry = failures.get(client);
    if (entry && entry.windowEnds > now()) {
      entry.count++;
      return;
    }
    if (failures.size >= MAX_TRACKED_CLIENTS) {
      for (const [key, value] of failures) if (value.windowEnds <= now()) failures.delete(key);
      // Still full of live entries: forget the oldest, rather than grow without bound.
      if (failures.size >= MAX_TRACKED_CLIENTS) failures.delete(failures.keys().next().value!);
    }
    failures.set(client, { count: 1, windowEnds: now() + FAILURE_WINDOW_MS });
  }

  function forgiveFailure(client: string): void {
    const entry = failures.get(client);
    if (entry && entry.count > 0) entry.count--;
  }

  /** The grant whose token `candidate` is, or null; every token is compared, equal lengths throughout. */
  function tokenGrant(candidate: string): Grant | null {
    const digest = sha256(candidate);
    let found = -1;
    tokenDigests.forEach((known, index) => {
      const equal = timingSafeEqual(digest, known);
      found = equal ? index : found;
    });
    return found < 0 ? null : settings.tokens[found]!;
  }

  async function checkBasic(encoded: string, header: string, client: string): Promise<AuthCheck> {
    const key = createHmac('sha256', cacheKey).update(header, 'utf8').digest('base64');
    const remembered = verified.get(key);
    if (remembered && remembered.expires > now()) return { ok: true, user: remembered.user, scope: remembered.scope };
    if (remembered) verified.delete(key);

    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'wrong' };
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // The lock is about guessing passwords: it is keyed by address, so it also falls on everyone
    // behind the guesser's proxy or NAT. A token is not guessable and lets its holder in as Bearer
    // whatever the lock; as the Basic password it must too (a CI job using Mailpit's or MailHog's
    // Basic-only clients). Checking it first (constant time, cheap) costs the guesser nothing new.
    const retryAfterS = lockedFor(client);
    if (retryAfterS > 0) {
      const grant = tokenGrant(password);
      return grant ? remember(key, user, grant.scope) : { ok: false, reason: 'throttled', retryAfterS };
    }
    // Counted as a failure before the (slow, asynchronous) check and forgiven if it succeeds, so a
    // burst of parallel guesses meets the limit as surely as one guess after another.
    recordFailure(client);
    // Both are always computed, so the time taken does not say which kind of secret was right.
    const passwordOk = settings.passwords !== null && user !== '' ? await settings.passwords.verify(user, password) : false;
    const grant = tokenGrant(password);
    if (!passwordOk && grant === null) return { ok: false, reason: 'wrong' };
    forgiveFailure(client);
    // A user's own password gives the user's mailboxes; a token as the password, the token's.
    return remember(key, user, passwordOk ? scopeOfUser(user) : grant!.scope);
  }

  function remember(key: string, user: string, scope: MailboxScope): AuthCheck {
    if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!);
    verified.set(key, { user, scope, expires: now() + VERIFIED_TTL_MS });
    return { ok: true, user, scope };
  }

  return {
    async check(authorization, client = '') {
      const header = authorization?.trim();
      if (!header) return { ok: false, reason: 'missing' };
      const match = /^(\S+)\s+(\S+)$/.exec(header);
      if (!match) return { ok: false, reason: 'wrong' };
      const scheme = match[1]!.toLowerCase();
      if (scheme === 'bearer') {
        const grant = tokenGrant(match[2]!);
        return grant ? { ok: true, user: null, scope: grant.scope } : { ok: false, reason: 'wrong' };
      }
      if (scheme === 'basic' && /^[A-Za-z0-9+/]+=*$/.test(match[2]!)) return checkBasic(match[2]!, header, client);
      return { ok: false, reason: 'wrong' };
    },
  };
}

/** The error for a refused request: the same JSON shape as every other error (src/errors.ts). */
export function authError(check: Extract<AuthCheck, { ok: false }>): KotakError {
  if (check.reason === 'throttled') {
    return new KotakError('auth_throttled', `too many wrong passwords from this address; try again in ${check.retryAfterS} s`);
  }
  return new KotakError(
    'auth_failed',
    check.reason === 'missing'
      ? 'authentication required: HTTP Basic (a user of --http-auth) or "Authorization: Bearer <token>" (--http-token)'
      : 'wrong user name, password or token',
  );
}

/**
 * Hono middleware: every request needs credentials except those to `openPaths` (the health
 * probes, which say only whether Kotak is up). A let-in request carries its login's mailboxes
 * (src/api/access.ts).
 */
export function requireAuth(auth: HttpAuth, openPaths: ReadonlySet<string>, onFailure?: () => void): MiddlewareHandler {
  return async (c, next) => {
    if (openPaths.has(c.req.path)) return next();
    const check = await auth.check(c.req.header('authorization'), clientAddress(c.env));
    if (check.ok) {
      c.set('access', check.scope);
      return next();
    }
    // A request without credentials (a browser's first) is no failed login.
    if (check.reason === 'wrong') onFailure?.();
    const error = authError(check);
    if (check.reason === 'throttled') return c.json(error.toJSON(), error.httpStatus as 429, { 'Retry-After': String(check.retryAfterS) });
    return c.json(error.toJSON(), error.httpStatus as 401, { 'WWW-Authenticate': AUTH_CHALLENGE });
  };
}

/** The client's address under @hono/node-server (its bindings carry the Node request). */
function clientAddress(env: unknown): string {
  return (env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? '';
}
