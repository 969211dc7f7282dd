/**
 * The HTTP side's access settings, read at start: the htpasswd file of `--http-auth` (the same
 * format, and the same code, as SMTP AUTH's), the tokens of `--http-token` and `--http-token-file`,
 * the mailboxes of each user (`--http-auth-mailboxes`) and token (its line in the token file), and
 * the warnings worth logging when Kotak listens beyond this machine without them.
 */
import { readFile } from 'node:fs/promises';
import { createHttpAuth, type HttpAuth } from './api/auth.js';
import type { HostPort } from './config.js';
import { KotakError } from './errors.js';
import { loadHtpasswd } from './auth/htpasswd.js';
import { parseGrants, type Grant } from './auth/mailbox-grants.js';
import { ALL_MAILBOXES, type MailboxScope } from './mail/mailbox-scope.js';
import type { PasswordVerifier } from './auth/verifier.js';

export interface HttpAccessSettings {
  readonly httpAuth: string | null;
  readonly httpTokens: readonly string[];
  readonly httpTokenFile: string | null;
  readonly httpAuthMailboxes: string | null;
  readonly httpCors: readonly string[];
}

export interface HttpAccess {
  /** Null when neither a password file nor a token is set: everyone may use the HTTP side. */
  readonly auth: HttpAuth | null;
  readonly users: number;
  readonly tokens: readonly Grant[];
  /** Users of `--http-auth` that `--http-auth-mailboxes` leaves out: they log in and see no mailbox. */
  readonly usersWithoutMailboxes: readonly string[];
}

async function readGrantFile(flag: string, path: string, what: 'token' | 'user'): Promise<Grant[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new KotakError('invalid_config', `--${flag}: cannot read ${path}: ${reason}`, { cause: err });
  }
  const grants = parseGrants(text, path, what);
  if (grants.length === 0) throw new KotakError('invalid_config', `--${flag}: ${path} holds no ${what}`);
  return grants;
}

export async function loadHttpAccess(settings: HttpAccessSettings, verifier: PasswordVerifier): Promise<HttpAccess> {
  const passwords = settings.httpAuth === null ? null : await loadHtpasswd(settings.httpAuth, verifier);
  if (passwords !== null && passwords.size === 0) throw new KotakError('invalid_config', `--http-auth: ${settings.httpAuth} holds no user`);
  const tokens: Grant[] = [
    ...settings.httpTokens.map((name) => ({ name, scope: ALL_MAILBOXES })),
    ...(settings.httpTokenFile === null ? [] : await readGrantFile('http-token-file', settings.httpTokenFile, 'token')),
  ];
  let userScopes: Map<string, MailboxScope> | null = null;
  if (settings.httpAuthMailboxes !== null) {
    if (passwords === null) throw new KotakError('invalid_config', '--http-auth-mailboxes names the mailboxes of --http-auth users: set --http-auth too');
    userScopes = new Map((await readGrantFile('http-auth-mailboxes', settings.httpAuthMailboxes, 'user')).map((g) => [g.name, g.scope]));
  }
  const usersWithoutMailboxes = userScopes === null || passwords === null ? [] : passwords.users.filter((user) => !userScopes.has(user));
  const auth = passwords === null && tokens.length === 0 ? null : createHttpAuth({ passwords, tokens, userScopes });
  return { auth, users: passwords?.size ?? 0, tokens, usersWithoutMailboxes };
}

/** Addresses only this machine can reach. `0.0.0.0` and `::` are every interface: not loopback. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^(0{1,4}:){7}0{0,3}1$/.test(h);
}

/** Shorter tokens can be guessed; 16 characters is what `openssl rand -hex 8` gives. */
const SHORT_TOKEN = 16;

/** What to warn about at start, as pino log lines: `[fields, message]`. */
export function exposureWarnings(
  listen: { readonly http: HostPort; readonly smtp: HostPort },
  settings: HttpAccessSettings,
  access: HttpAccess,
): [Record<string, unknown>, string][] {
  const warnings: [Record<string, unknown>, string][] = [];
  if (!isLoopback(listen.http.host) && access.auth === null) {
    warnings.push([{ http: listen.http.host }, 'the inbox and API listen beyond this machine without authentication: anyone who can reach them reads every message (set --http-auth or --http-token)']);
  }
  if (!isLoopback(listen.smtp.host)) {
    warnings.push([{ smtp: listen.smtp.host }, 'SMTP listens beyond this machine: anyone who can reach it can put messages in the inbox']);
  }
  if (settings.httpCors.includes('*')) {
    warnings.push([{ cors: '*' }, '--http-cors *: any web page may read the API from a visitor\'s browser (never with the browser\'s Basic credentials; tokens and an open server still work)']);
  }
  const short = access.tokens.filter((t) => t.name.length < SHORT_TOKEN).length;
  if (short > 0) warnings.push([{ tokens: short }, `${short} HTTP token(s) shorter than ${SHORT_TOKEN} characters: easy to guess`]);
  if (access.usersWithoutMailboxes.length > 0) {
    const users = access.usersWithoutMailboxes;
    warnings.push([{ users: users.slice(0, 20) }, `${users.length} user(s) of --http-auth have no line in --http-auth-mailboxes: they can log in but see no mailbox`]);
  }
  return warnings;
}
