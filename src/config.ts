/**
 * Configuration: every setting once, with its flag, its KOTAK_* environment variable, its default
 * and its parser. Precedence: flag > environment > default. Validated once into a frozen Config;
 * each module receives only its slice. `kotak --help` is generated from the same table.
 */
import os from 'node:os';
import { KotakError } from './errors.js';
import { parseDuration, parseSize } from './units.js';
import { splitRuleSpecs } from './chaos/spec.js';
import { MAIL_EVENT_NAMES, type MailEventName } from './events.js';
import { readEndpoint, webhookUrlProblem } from './webhooks/endpoint.js';
import type { WebhookFormat } from './webhooks/types.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Where SpamAssassin's spamd listens: `HOST:PORT`, or `unix:/path` (its --socketpath). */
export type SpamdAddress = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export type AuthSetting = { readonly mode: 'off' } | { readonly mode: 'any' } | { readonly mode: 'file'; readonly path: string };
export type TlsSetting = { readonly mode: 'off' } | { readonly mode: 'auto' } | { readonly mode: 'files'; readonly cert: string; readonly key: string };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type Durability = 'crash' | 'full';
/** auto: pretty when stdout is a terminal, JSON lines otherwise (pipes, files, containers). */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface Config {
  readonly smtp: HostPort;
  readonly http: HostPort;
  /** '/' or a prefix with slashes at both ends, e.g. '/mail/'. */
  readonly httpBasePath: string;
  /** htpasswd file guarding the inbox, API and WebSockets with HTTP Basic; null: no passwords. */
  readonly httpAuth: string | null;
  /** API tokens (`Authorization: Bearer`); never logged. */
  readonly httpTokens: readonly string[];
  readonly httpTokenFile: string | null;
  /** `user mailbox1,mailbox2` lines: the mailboxes each `--http-auth` user may see. */
  readonly httpAuthMailboxes: string | null;
  /** Origins (exact, normalised) whose pages may use the API and WebSockets, or '*'. */
  readonly httpCors: readonly string[];
  readonly httpAllowedHosts: readonly string[];
  readonly db: string;
  /** Free disk space below which new mail is refused (452 4.3.1); 0: no check. */
  readonly minFreeDisk: number;
  /**
   * What a `250` promises. `crash`: the message is committed to the database file (WAL,
   * synchronous=NORMAL), so it survives Kotak crashing, being killed or running out of memory;
   * `full`: also fsynced before the `250`, so it survives power loss and an OS crash.
   */
  readonly durability: Durability;
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  readonly maxMessages: number | null;
  readonly maxAge: number | null;
  readonly smtpAuth: AuthSetting;
  readonly smtpTls: TlsSetting;
  readonly smtpRequireTls: boolean;
  /** SMTP over TLS from the first byte (port 465 style); needs smtpTls. */
  readonly smtpTlsImplicit: boolean;
  /** SMTP connections open at once, in total and per client address (0: no limit). */
  readonly smtpMaxConnections: number;
  readonly smtpMaxConnectionsPerIp: number;
  /** New connections and messages (MAIL FROM) per client address per minute (0: no limit). */
  readonly smtpConnectionRate: number;
  readonly smtpMessageRate: number;
  /** Failed SMTP AUTH attempts per client address per minute; past it AUTH is refused unchecked (0: no limit). */
  readonly smtpAuthFailureRate: number;
  readonly smtpIdleTimeout: number;
  /** The longest an SMTP session may last (ms; 0: no limit). */
  readonly smtpSessionTimeout: number;
  /** Under pressure (80% of smtpMaxConnections open): the deadline for each line, and the session cap (ms). */
  readonly smtpStressLineTimeout: number;
  readonly smtpStressSessionTimeout: number;
  /** Message structure limits: past them a message is stored raw and flagged, not parsed. */
  readonly maxHeaderSize: number;
  readonly maxMimeParts: number;
  readonly maxMimeDepth: number;
  /** POP3 listener; null = off. */
  readonly pop3: HostPort | null;
  readonly pop3Auth: AuthSetting;
  readonly pop3Tls: TlsSetting;
  readonly pop3TlsImplicit: boolean;
  /** How many of the newest messages a POP3 session sees. */
  readonly pop3MaildropSize: number;
  readonly pop3IdleTimeout: number;
  readonly pop3MaxConnections: number;
  /** IMAP listener; null = off. */
  readonly imap: HostPort | null;
  readonly imapAuth: AuthSetting;
  readonly imapTls: TlsSetting;
  readonly imapTlsImplicit: boolean;
  readonly imapMaxConnections: number;
  readonly imapIdleTimeout: number;
  /** How many of a folder's newest messages a selected IMAP folder shows. */
  readonly imapFolderSize: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly hostname: string;
  readonly parseTimeout: number;
  readonly parseWorkers: number;
  /** The longest a client may wait on /api/messages/wait (ms). */
  readonly maxWait: number;
  readonly relayAllow: readonly string[];
  /** Mailbox routing rules (`PATTERN=NAME` or a PATTERN with `{mailbox}`), checked by mailbox/routing.ts. */
  readonly mailboxRoute: readonly string[];
  readonly mailboxBySmtpUser: boolean;
  /** Tag sources at intake (mail/tag-rules.ts): X-Tags unless ignored, plus-addressing, the SMTP user, rules. */
  readonly ignoreXTags: boolean;
  readonly tagsFromPlus: boolean;
  readonly tagSmtpUser: boolean;
  /** `QUERY=TAG` rules as given; mailbox/tag-rules.ts compiles and checks them at start. */
  readonly tagRule: readonly string[];
  readonly relayAllowEveryone: boolean;
  readonly relayAuto: boolean;
  readonly relaySmarthost: HostPort | null;
  readonly relaySmarthostTls: 'starttls' | 'implicit' | 'off';
  readonly relaySmarthostUser: string | null;
  /** Never logged, never in an API response. */
  readonly relaySmarthostPassword: string | null;
  readonly relayRequireTls: boolean;
  /** DNS servers for relay's MX lookups and the message checks (--dns); empty: the system's. */
  readonly dns: readonly string[];
  /** The older name of `dns`: after resolveConfig, always equal to it. */
  readonly relayDns: readonly string[];
  readonly relayMxPort: number;
  readonly relayRetry: readonly number[];
  readonly relayGiveUp: number;
  /** Many nodes (PostgreSQL): how long a node's claim on a relay job lasts unless renewed. */
  readonly relayLease: number;
  readonly relayConnectTimeout: number;
  readonly relayCommandTimeout: number;
  readonly relayDataTimeout: number;
  readonly relayConcurrency: number;
  readonly relayDkimDomain: string | null;
  readonly relayDkimSelector: string | null;
  readonly relayDkimKey: string | null;
  /** SpamAssassin's spamd for the spam check; null: the check is off. */
  readonly spamassassin: SpamdAddress | null;
  readonly spamassassinTimeout: number;
  /** The most bytes of a message sent to spamd. */
  readonly spamassassinMaxSize: number;
  /** Let the link check fetch loopback, private and other non-public addresses. */
  readonly linkCheckPrivate: boolean;
  /** Per link of the link check, its redirects included (ms). */
  readonly linkCheckTimeout: number;
  // chaos
  /** --chaos-rule specs (src/chaos/spec.ts), checked when the rules are built at start. */
  readonly chaosRule: readonly string[];
  /** The seed of chaos probabilities that give none; null: drawn at start. */
  readonly chaosSeed: number | null;
  // metrics (GET /metrics, src/metrics/)
  /** A Bearer token that opens GET /metrics alone (for a Prometheus scraper); null: none. Never logged. */
  readonly metricsToken: string | null;
  // webhooks (src/webhooks/): nothing runs without a --webhook URL
  /** Endpoint URLs as given (checked: http or https); they may carry a user and password, so never logged whole. */
  readonly webhook: readonly string[];
  /** The bus events every endpoint hears of. */
  readonly webhookEvents: readonly MailEventName[];
  /** The HMAC-SHA256 key of `Kotak-Signature`; null: unsigned. Never logged. */
  readonly webhookSecret: string | null;
  readonly webhookFormat: WebhookFormat;
  /** The longest one delivery attempt may take (ms). */
  readonly webhookTimeout: number;
  /** How long after its event a delivery is retried before it is given up (ms). */
  readonly webhookRetryFor: number;
  /** With PostgreSQL: a node's claim on a delivery (ms), renewed while it is sent; a node that died leaves it to another after this. */
  readonly webhookLease: number;
}

function invalid(flag: string, reason: string): never {
  throw new KotakError('invalid_config', `--${flag}: ${reason}`);
}

/** A PostgreSQL URL (`postgres://` or `postgresql://`), as `--db` takes one. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(db);
}

/** `--db`: a SQLite path, or a PostgreSQL URL that must parse (its password never shown). */
function parseDatabase(value: string): string {
  const db = value.trim();
  if (db === '') return invalid('db', 'empty path');
  if (!isPostgresUrl(db)) return db;
  try {
    new URL(db);
  } catch {
    // Never the value itself: it may hold a password.
    return invalid('db', 'the PostgreSQL URL cannot be read (postgres://user:password@host:5432/database; a password with @, : or / must be percent-encoded)');
  }
  return db;
}

export function parseHostPort(flag: string, value: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) invalid(flag, `"${value}" is not HOST:PORT (e.g. 127.0.0.1:1025, [::1]:1025, 0.0.0.0:0)`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** `*`, or scheme://host[:port] with nothing after it, written as browsers write an Origin header. */
function parseAllowedHost(flag: string, entry: string): string {
  const text = entry.trim().toLowerCase();
  if (text === '' || text === '*') return text;
  if (!/^\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(text)) invalid(flag, `"${entry}" is not a host name (no scheme or port), e.g. mail.example.test or .example.test, or *`);
  return text;
}

export function parseOrigin(flag: string, entry: string): string {
  const text = entry.trim();
  if (text === '*') return '*';
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // Reported below.
  }
  const afterHost = text.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password || !['', '/'].includes(afterHost)) {
    invalid(flag, `"${entry}" is not an origin (scheme://host[:port], no path), e.g. https://app.example.test:3000, or *`);
  }
  return url.origin;
}

/** Comma-separated HTTP tokens: each one word of printable ASCII, as an Authorization header carries it. */
function parseTokens(flag: string, value: string): string[] {
  const tokens = value.split(',').map((t) => t.trim()).filter(Boolean);
  if (tokens.length === 0) invalid(flag, 'no token given');
  if (tokens.some((t) => !/^[\x21-\x7e]+$/.test(t))) invalid(flag, 'a token is printable ASCII without spaces or commas');
  return tokens;
}

export function parseBasePath(flag: string, value: string): string {
  const trimmed = value.trim();
  if (!/^\/?[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(trimmed) || /(^|\/)\.\.?(\/|$)/.test(trimmed)) {
    invalid(flag, `"${value}" is not a URL path such as /mail/`);
  }
  const inner = trimmed.split('/').filter(Boolean).join('/');
  return inner ? `/${inner}/` : '/';
}

/** spamd's address: `HOST:PORT` as everywhere else, or `unix:/path` for its --socketpath. */
function parseSpamdAddress(flag: string, value: string): SpamdAddress {
  const text = value.trim();
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (!path.startsWith('/')) invalid(flag, `"${value}" is not unix:/absolute/path`);
    return { kind: 'unix', path };
  }
  const { host, port } = parseHostPort(flag, text);
  if (port === 0) invalid(flag, `"${value}": spamd's port, not 0 (spamd listens on 783 by default)`);
  return { kind: 'tcp', host: host === '0.0.0.0' ? '127.0.0.1' : host, port };
}

/** "host:port" or "host" (port 53), IPv6 in brackets; as node:dns's setServers takes it. */
function dnsServer(flag: string, value: string): string {
  const { host, port } = parseHostPort(flag, /(^\[.*\]|^[^:]*):\d+$/.test(value) ? value : `${value}:53`);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseCount(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) invalid(flag, `"${value}" is not a whole number ≥ ${min}`);
  return Number(value);
}

function parseBoolean(flag: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', ''].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return invalid(flag, `"${value}" is not true or false`);
}

function parseTls(flag: string, v: string): TlsSetting {
  if (v === 'off' || v === 'auto') return { mode: v };
  const [cert, key, ...rest] = v.split(',');
  if (!cert || !key || rest.length) invalid(flag, `"${v}" is not off, auto or CERT,KEY`);
  return { mode: 'files', cert, key };
}

function parseAuth(v: string): AuthSetting {
  return v === 'off' || v === 'any' ? { mode: v } : { mode: 'file', path: v };
}

function wrapUnits<T>(flag: string, parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (err) {
      return invalid(flag, (err as Error).message);
    }
  };
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DURABILITY_MODES: readonly Durability[] = ['crash', 'full'];
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];
const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['kotak', 'mailpit'];

/** `--webhook`: comma-separated http(s) URLs, each named (without its password) when it is refused. */
function parseWebhookUrls(flag: string, value: string): string[] {
  const urls = value.split(',').map((u) => u.trim()).filter(Boolean);
  const names = new Set<string>();
  for (const url of urls) {
    const problem = webhookUrlProblem(url);
    if (problem !== null) invalid(flag, problem);
    // The name (the URL without its password) keys the outbox: one endpoint, one queue.
    const name = readEndpoint(url).name;
    if (names.has(name)) invalid(flag, `"${name}" is given twice`);
    names.add(name);
  }
  return urls;
}

/** `--webhook-events`: bus event names, each known. */
function parseEventNames(flag: string, value: string): MailEventName[] {
  const names = [...new Set(value.split(',').map((n) => n.trim()).filter(Boolean))];
  if (names.length === 0) invalid(flag, `no event given; known: ${MAIL_EVENT_NAMES.join(', ')}`);
  const unknown = names.filter((n) => !(MAIL_EVENT_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) invalid(flag, `unknown event ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${MAIL_EVENT_NAMES.join(', ')}`);
  return names as MailEventName[];
}

/** Where `kotak --help` lists a setting (src/help.ts names and orders them). */
export type SettingSection = 'smtp' | 'http' | 'storage' | 'mailboxes' | 'tags' | 'pop3' | 'imap' | 'relay' | 'checks' | 'chaos' | 'limits' | 'general' | 'metrics' | 'webhooks';

interface Setting<K extends keyof Config> {
  readonly key: K;
  readonly flag: string;
  readonly section: SettingSection;
  /**
   * A comma-separated list: a repeated flag adds to it (`--relay-allow a --relay-allow b,c` = a,b,c),
   * as users of other CLIs expect; KOTAK_* variables take the comma form.
   */
  readonly list?: true;
  /** What joins a repeated flag's values, and splits the KOTAK_* form, when a comma can be part of a value (default ','). */
  readonly separator?: string;
  readonly value: string;
  readonly help: string;
  /** The default as written on the command line; null = unset. */
  readonly fallback: string | null;
  readonly boolean?: true;
  readonly parse: (value: string) => Config[K];
}

const setting = <K extends keyof Config>(s: Setting<K>): Setting<K> => s;

export const SETTINGS = [
  setting({ key: 'smtp', flag: 'smtp', section: 'smtp', value: 'HOST:PORT', fallback: '127.0.0.1:1025', help: 'SMTP listen address (port 0 picks a free port)', parse: (v) => parseHostPort('smtp', v) }),
  setting({ key: 'http', flag: 'http', section: 'http', value: 'HOST:PORT', fallback: '127.0.0.1:8025', help: 'HTTP API, WebSocket and web inbox listen address', parse: (v) => parseHostPort('http', v) }),
  setting({ key: 'httpBasePath', flag: 'http-base-path', section: 'http', value: 'PATH', fallback: '/', help: 'serve the inbox, API and WebSocket under this path (behind a reverse proxy), e.g. /mail/', parse: (v) => parseBasePath('http-base-path', v) }),
  // HTTP access: open by default (bound to loopback); a password file or a token closes it.
  setting({ key: 'httpAuth', flag: 'http-auth', section: 'http', value: 'FILE', fallback: null, help: 'require HTTP Basic for the inbox, API and WebSockets: an htpasswd file (bcrypt, apr1, SHA or plain)', parse: (v) => v.trim() || invalid('http-auth', 'empty path') }),
  setting({ key: 'httpTokens', flag: 'http-token', section: 'http', list: true, value: 'TOKEN[,TOKEN]', fallback: null, help: 'API tokens for CI (Authorization: Bearer TOKEN, or as the Basic password); turns authentication on', parse: (v) => parseTokens('http-token', v) }),
  setting({ key: 'httpTokenFile', flag: 'http-token-file', section: 'http', value: 'FILE', fallback: null, help: 'API tokens read from a file, one a line (# comments); "TOKEN mailbox1,mailbox2" lets a token see only those mailboxes', parse: (v) => v.trim() || invalid('http-token-file', 'empty path') }),
  setting({ key: 'httpAuthMailboxes', flag: 'http-auth-mailboxes', section: 'http', value: 'FILE', fallback: null, help: 'the mailboxes each --http-auth user may see: "user mailbox1,mailbox2" or "user *" a line; users left out see none', parse: (v) => v.trim() || invalid('http-auth-mailboxes', 'empty path') }),
  setting({ key: 'httpAllowedHosts', flag: 'http-allowed-hosts', section: 'http', list: true, value: 'HOST[,HOST]', fallback: null, help: 'host names the HTTP side may be reached by, besides localhost, *.localhost, IP addresses, names without dots and --hostname (DNS rebinding guard: others get 403; .example.test = it and its subdomains; * = any; not needed with --http-auth)', parse: (v) => v.split(',').map((h) => parseAllowedHost('http-allowed-hosts', h)).filter((h) => h !== '') }),
  setting({ key: 'httpCors', flag: 'http-cors', section: 'http', list: true, value: 'ORIGIN[,ORIGIN]', fallback: null, help: 'let web pages at these exact origins call the API (CORS) and open the WebSockets; * = any page, never with Basic credentials', parse: (v) => v.split(',').filter((o) => o.trim()).map((o) => parseOrigin('http-cors', o)) }),
  setting({ key: 'db', flag: 'db', section: 'storage', value: 'PATH|URL', fallback: 'kotak.db', help: 'SQLite database file (":memory:" keeps nothing on disk), or a PostgreSQL URL (postgres://user:password@host:5432/kotak) that many Kotak nodes share', parse: parseDatabase }),
  setting({ key: 'durability', flag: 'durability', section: 'storage', value: 'MODE', fallback: 'crash', help: 'what a 250 survives: crash (Kotak crashing, killed, out of memory; the default) or full (also power loss: fsync before every 250, slower)', parse: (v) => (DURABILITY_MODES.includes(v as Durability) ? (v as Durability) : invalid('durability', `"${v}" is not one of ${DURABILITY_MODES.join(', ')}`)) }),
  setting({ key: 'minFreeDisk', flag: 'min-free-disk', section: 'storage', value: 'SIZE', fallback: '64MB', help: 'refuse new mail (452 4.3.1) while the database\'s disk has less free space; deleting keeps working (0: off)', parse: wrapUnits('min-free-disk', parseSize) }),
  setting({ key: 'maxMessageSize', flag: 'max-message-size', section: 'limits', value: 'SIZE', fallback: '50MB', help: 'largest message accepted (advertised as SIZE; larger → 552 5.3.4)', parse: wrapUnits('max-message-size', parseSize) }),
  setting({ key: 'maxRecipients', flag: 'max-recipients', section: 'limits', value: 'N', fallback: '1000', help: 'recipients per message (more → 452 4.5.3)', parse: (v) => parseCount('max-recipients', v, 1) }),
  setting({ key: 'maxMessages', flag: 'max-messages', section: 'storage', value: 'N', fallback: null, help: 'keep only the newest N messages (0 or unset: no limit)', parse: (v) => parseCount('max-messages', v, 0) || null }),
  setting({ key: 'maxAge', flag: 'max-age', section: 'storage', value: 'DURATION', fallback: null, help: 'delete messages older than this, e.g. 36h or 14d (unset: keep)', parse: wrapUnits('max-age', (v) => parseDuration(v) || null) }),
  setting({ key: 'smtpAuth', flag: 'smtp-auth', section: 'smtp', value: 'off|any|FILE', fallback: 'off', help: 'SMTP AUTH: off, any (accept all, record the user) or an htpasswd file', parse: parseAuth }),
  setting({ key: 'smtpTls', flag: 'smtp-tls', section: 'smtp', value: 'off|auto|CERT,KEY', fallback: 'off', help: 'STARTTLS: off, auto (self-signed at start) or PEM certificate and key files', parse: (v) => parseTls('smtp-tls', v) }),
  setting({ key: 'smtpTlsImplicit', flag: 'smtp-tls-implicit', section: 'smtp', value: '', fallback: 'false', boolean: true, help: 'SMTP over TLS from the first byte (as on port 465) instead of STARTTLS; needs --smtp-tls', parse: (v) => parseBoolean('smtp-tls-implicit', v) }),
  setting({ key: 'smtpRequireTls', flag: 'smtp-require-tls', section: 'smtp', value: '', fallback: 'false', boolean: true, help: 'refuse AUTH and MAIL before STARTTLS', parse: (v) => parseBoolean('smtp-require-tls', v) }),
  // SMTP limits, close to Postfix's (anvil counts, 0 = no limit); see src/smtp/client-limits.ts.
  setting({ key: 'smtpMaxConnections', flag: 'smtp-max-connections', section: 'limits', value: 'N', fallback: '500', help: 'SMTP connections open at once, all clients together (more → 421 4.7.0; 0: no limit)', parse: (v) => parseCount('smtp-max-connections', v, 0) }),
  setting({ key: 'smtpMaxConnectionsPerIp', flag: 'smtp-max-connections-per-ip', section: 'limits', value: 'N', fallback: '100', help: 'SMTP connections open at once from one client address (more → 421 4.7.0; 0: no limit)', parse: (v) => parseCount('smtp-max-connections-per-ip', v, 0) }),
  setting({ key: 'smtpConnectionRate', flag: 'smtp-connection-rate', section: 'limits', value: 'N', fallback: '0', help: 'new SMTP connections per client address per minute (more → 421 4.7.0; 0: no limit)', parse: (v) => parseCount('smtp-connection-rate', v, 0) }),
  setting({ key: 'smtpMessageRate', flag: 'smtp-message-rate', section: 'limits', value: 'N', fallback: '0', help: 'messages (MAIL FROM) per client address per minute (more → 421 4.7.0; 0: no limit)', parse: (v) => parseCount('smtp-message-rate', v, 0) }),
  setting({ key: 'smtpAuthFailureRate', flag: 'smtp-auth-failure-rate', section: 'limits', value: 'N', fallback: '10', help: 'failed SMTP AUTH attempts per client address per minute; more → 421 4.7.0 without checking the password (0: no limit)', parse: (v) => parseCount('smtp-auth-failure-rate', v, 0) }),
  setting({ key: 'smtpIdleTimeout', flag: 'smtp-idle-timeout', section: 'limits', value: 'DURATION', fallback: '5m', help: 'close an SMTP connection that owes a command or data and is silent this long (RFC 5321 4.5.3.2; 421 4.4.2)', parse: wrapUnits('smtp-idle-timeout', (v) => parseDuration(v) || invalid('smtp-idle-timeout', 'must be more than 0')) }),
  setting({ key: 'smtpSessionTimeout', flag: 'smtp-session-timeout', section: 'limits', value: 'DURATION', fallback: '30m', help: 'longest an SMTP session may last, however busy (then 421 4.4.2; 0: no limit)', parse: wrapUnits('smtp-session-timeout', (v) => (v.trim() === '0' ? 0 : parseDuration(v))) }),
  setting({ key: 'smtpStressLineTimeout', flag: 'smtp-stress-line-timeout', section: 'limits', value: 'DURATION', fallback: '10s', help: 'under pressure (80% of --smtp-max-connections open), a client must send each line within this of its last line or our reply (Postfix stress mode; 421 4.4.2); also the limit on an implicit-TLS handshake', parse: wrapUnits('smtp-stress-line-timeout', (v) => parseDuration(v) || invalid('smtp-stress-line-timeout', 'must be more than 0')) }),
  setting({ key: 'smtpStressSessionTimeout', flag: 'smtp-stress-session-timeout', section: 'limits', value: 'DURATION', fallback: '1m', help: 'under pressure, the longest an SMTP session may last, open ones included (421 4.4.2)', parse: wrapUnits('smtp-stress-session-timeout', (v) => parseDuration(v) || invalid('smtp-stress-session-timeout', 'must be more than 0')) }),
  setting({ key: 'maxHeaderSize', flag: 'max-header-size', section: 'limits', value: 'SIZE', fallback: '100KB', help: 'largest header section, of the message or of a MIME part; larger: stored raw and flagged, not parsed', parse: wrapUnits('max-header-size', (v) => parseSize(v) || invalid('max-header-size', 'must be more than 0')) }),
  setting({ key: 'maxMimeParts', flag: 'max-mime-parts', section: 'limits', value: 'N', fallback: '1000', help: 'MIME parts in a message, containers included; more: stored raw and flagged, not parsed', parse: (v) => parseCount('max-mime-parts', v, 1) }),
  setting({ key: 'maxMimeDepth', flag: 'max-mime-depth', section: 'limits', value: 'N', fallback: '50', help: 'how deep MIME parts may nest; deeper: stored raw and flagged, not parsed', parse: (v) => parseCount('max-mime-depth', v, 1) }),
  // POP3: off unless an address is given; then credentials are required, as in Mailpit.
  setting({ key: 'pop3', flag: 'pop3', section: 'pop3', value: 'HOST:PORT', fallback: null, help: 'serve the mailbox over POP3 here, usually 127.0.0.1:1110 (off unless set; port 0 picks a free port; needs --pop3-auth)', parse: (v) => parseHostPort('pop3', v) }),
  setting({ key: 'pop3Auth', flag: 'pop3-auth', section: 'pop3', value: 'any|FILE', fallback: 'off', help: 'POP3 logins: an htpasswd file, or any (every user and password accepted)', parse: parseAuth }),
  setting({ key: 'pop3Tls', flag: 'pop3-tls', section: 'pop3', value: 'off|auto|CERT,KEY', fallback: 'off', help: 'POP3 STLS: off, auto (self-signed at start) or PEM certificate and key files', parse: (v) => parseTls('pop3-tls', v) }),
  setting({ key: 'pop3TlsImplicit', flag: 'pop3-tls-implicit', section: 'pop3', value: '', fallback: 'false', boolean: true, help: 'POP3 over TLS from the first byte (as on port 995) instead of STLS', parse: (v) => parseBoolean('pop3-tls-implicit', v) }),
  setting({ key: 'pop3MaildropSize', flag: 'pop3-maildrop-size', section: 'pop3', value: 'N', fallback: '500', help: 'a POP3 session sees the newest N messages', parse: (v) => parseCount('pop3-maildrop-size', v, 1) }),
  setting({ key: 'pop3MaxConnections', flag: 'pop3-max-connections', section: 'pop3', value: 'N', fallback: '100', help: 'POP3 connections open at once; one more gets -ERR [SYS/TEMP] (0: no limit)', parse: (v) => parseCount('pop3-max-connections', v, 0) }),
  setting({ key: 'pop3IdleTimeout', flag: 'pop3-idle-timeout', section: 'pop3', value: 'DURATION', fallback: '10m', help: 'close a POP3 connection idle this long (RFC 1939: at least 10m)', parse: wrapUnits('pop3-idle-timeout', (v) => parseDuration(v) || invalid('pop3-idle-timeout', 'must be more than 0')) }),
  // IMAP: as POP3, off unless an address is given, and then credentials are required.
  setting({ key: 'imap', flag: 'imap', section: 'imap', value: 'HOST:PORT', fallback: null, help: 'serve the mailboxes over IMAP here, usually 127.0.0.1:1143 (off unless set; port 0 picks a free port; needs --imap-auth)', parse: (v) => parseHostPort('imap', v) }),
  setting({ key: 'imapAuth', flag: 'imap-auth', section: 'imap', value: 'any|FILE', fallback: 'off', help: 'IMAP logins: an htpasswd file, or any (every user and password accepted)', parse: parseAuth }),
  setting({ key: 'imapTls', flag: 'imap-tls', section: 'imap', value: 'off|auto|CERT,KEY', fallback: 'off', help: 'IMAP STARTTLS: off, auto (self-signed at start) or PEM certificate and key files', parse: (v) => parseTls('imap-tls', v) }),
  setting({ key: 'imapTlsImplicit', flag: 'imap-tls-implicit', section: 'imap', value: '', fallback: 'false', boolean: true, help: 'IMAP over TLS from the first byte (as on port 993) instead of STARTTLS', parse: (v) => parseBoolean('imap-tls-implicit', v) }),
  setting({ key: 'imapMaxConnections', flag: 'imap-max-connections', section: 'imap', value: 'N', fallback: '100', help: 'IMAP connections open at once; one more gets * BYE [UNAVAILABLE] (0: no limit)', parse: (v) => parseCount('imap-max-connections', v, 0) }),
  setting({ key: 'imapIdleTimeout', flag: 'imap-idle-timeout', section: 'imap', value: 'DURATION', fallback: '30m', help: 'close an IMAP connection idle this long, IDLE included (RFC 3501: at least 30m)', parse: wrapUnits('imap-idle-timeout', (v) => parseDuration(v) || invalid('imap-idle-timeout', 'must be more than 0')) }),
  setting({ key: 'imapFolderSize', flag: 'imap-folder-size', section: 'imap', value: 'N', fallback: '10000', help: 'a selected IMAP folder shows its newest N messages (and what arrives while selected)', parse: (v) => parseCount('imap-folder-size', v, 1) }),
  setting({ key: 'logLevel', flag: 'log-level', section: 'general', value: 'LEVEL', fallback: 'info', help: `log level: ${LOG_LEVELS.join(', ')}`, parse: (v) => (LOG_LEVELS.includes(v as LogLevel) ? (v as LogLevel) : invalid('log-level', `"${v}" is not one of ${LOG_LEVELS.join(', ')}`)) }),
  setting({ key: 'logFormat', flag: 'log-format', section: 'general', value: 'auto|json|pretty', fallback: 'auto', help: 'log lines as JSON (one object a line) or pretty for people; auto: pretty when stdout is a terminal', parse: (v) => (LOG_FORMATS.includes(v as LogFormat) ? (v as LogFormat) : invalid('log-format', `"${v}" is not auto, json or pretty`)) }),
  setting({ key: 'hostname', flag: 'hostname', section: 'smtp', value: 'NAME', fallback: null, help: 'name in the SMTP greeting (default: this machine\'s hostname)', parse: (v) => v.trim() || invalid('hostname', 'empty name') }),
  setting({ key: 'parseTimeout', flag: 'parse-timeout', section: 'limits', value: 'DURATION', fallback: '10s', help: 'longest a message may take to parse; it is then kept raw and flagged', parse: wrapUnits('parse-timeout', (v) => parseDuration(v) || invalid('parse-timeout', 'must be more than 0')) }),
  setting({ key: 'maxWait', flag: 'max-wait', section: 'http', value: 'DURATION', fallback: '120s', help: 'longest timeout a client may ask of GET /api/messages/wait', parse: wrapUnits('max-wait', (v) => parseDuration(v) || invalid('max-wait', 'must be more than 0')) }),
  // Mailboxes: routing at intake (mailbox/routing.ts compiles and checks the rules at start).
  setting({ key: 'mailboxRoute', flag: 'mailbox-route', section: 'mailboxes', list: true, value: 'PATTERN=NAME|PATTERN', fallback: null, help: 'put mail for recipients matching PATTERN (the --relay-allow pattern language) in mailbox NAME, or in the mailbox PATTERN captures with {mailbox} (e.g. *@{mailbox}.inbox.test); first matching rule wins, the rest goes to default', parse: (v) => v.split(',').map((p) => p.trim()).filter(Boolean) }),
  setting({ key: 'mailboxBySmtpUser', flag: 'mailbox-by-smtp-user', section: 'mailboxes', value: '', fallback: 'false', boolean: true, help: 'mail sent with SMTP AUTH as user U goes to mailbox U (a user name that is no valid mailbox name: routed as without it)', parse: (v) => parseBoolean('mailbox-by-smtp-user', v) }),
  // Tags at intake (mail/tag-rules.ts): X-Tags as Mailpit (on), the rest when asked for.
  setting({ key: 'ignoreXTags', flag: 'ignore-x-tags', section: 'tags', value: '', fallback: 'false', boolean: true, help: 'do not tag messages from their X-Tags header (Mailpit\'s, comma-separated; read by default)', parse: (v) => parseBoolean('ignore-x-tags', v) }),
  setting({ key: 'tagsFromPlus', flag: 'tags-from-plus', section: 'tags', value: '', fallback: 'false', boolean: true, help: 'tag a message with the +tag of user+tag@domain in its recipients and From/To/Cc', parse: (v) => parseBoolean('tags-from-plus', v) }),
  setting({ key: 'tagSmtpUser', flag: 'tag-smtp-user', section: 'tags', value: '', fallback: 'false', boolean: true, help: 'tag a message with the SMTP AUTH user it was sent as', parse: (v) => parseBoolean('tag-smtp-user', v) }),
  setting({ key: 'tagRule', flag: 'tag-rule', section: 'tags', list: true, separator: '\n', value: 'QUERY=TAG', fallback: null, help: 'tag messages matching a search (e.g. \'from:billing@shop.test subject:invoice=Billing\'); repeatable; KOTAK_TAG_RULE takes one rule a line', parse: (v) => v.split('\n').map((r) => r.trim()).filter(Boolean) }),
  // Relay: off unless an allowlist (or the loud allow-everyone switch) is given.
  setting({ key: 'relayAllow', flag: 'relay-allow', section: 'relay', list: true, value: 'PATTERNS', fallback: null, help: 'turn relay on for these recipients only, comma-separated (e.g. *@example.com,qa+*@corp.test)', parse: (v) => v.split(',').map((p) => p.trim()).filter(Boolean) }),
  setting({ key: 'relayAllowEveryone', flag: 'relay-allow-everyone', section: 'relay', value: '', fallback: 'false', boolean: true, help: 'DANGER: relay to any recipient at all (real people included)', parse: (v) => parseBoolean('relay-allow-everyone', v) }),
  setting({ key: 'relayAuto', flag: 'relay-auto', section: 'relay', value: '', fallback: 'false', boolean: true, help: 'relay every new message to its allowed envelope recipients (otherwise: release by hand or API)', parse: (v) => parseBoolean('relay-auto', v) }),
  setting({ key: 'relaySmarthost', flag: 'relay-smarthost', section: 'relay', value: 'HOST:PORT', fallback: null, help: 'deliver through this server instead of the recipients\' MX (for networks that block port 25)', parse: (v) => parseHostPort('relay-smarthost', v) }),
  setting({ key: 'relaySmarthostTls', flag: 'relay-smarthost-tls', section: 'relay', value: 'starttls|implicit|off', fallback: 'starttls', help: 'TLS to the smarthost: STARTTLS required, TLS from the start (port 465), or none', parse: (v) => (['starttls', 'implicit', 'off'].includes(v) ? (v as 'starttls' | 'implicit' | 'off') : invalid('relay-smarthost-tls', `"${v}" is not starttls, implicit or off`)) }),
  setting({ key: 'relaySmarthostUser', flag: 'relay-smarthost-user', section: 'relay', value: 'USER', fallback: null, help: 'AUTH user for the smarthost', parse: (v) => v }),
  setting({ key: 'relaySmarthostPassword', flag: 'relay-smarthost-password', section: 'relay', value: 'PASSWORD', fallback: null, help: 'AUTH password for the smarthost (prefer the environment variable; never logged)', parse: (v) => v }),
  setting({ key: 'relayRequireTls', flag: 'relay-require-tls', section: 'relay', value: '', fallback: 'false', boolean: true, help: 'never deliver over plaintext: an MX without STARTTLS is a temporary failure', parse: (v) => parseBoolean('relay-require-tls', v) }),
  setting({ key: 'relayDns', flag: 'relay-dns', section: 'relay', list: true, value: 'HOST:PORT,...', fallback: null, help: 'the older name of --dns (still accepted)', parse: (v) => v.split(',').map((p) => p.trim()).filter(Boolean).map((p) => dnsServer('relay-dns', p)) }),
  setting({ key: 'relayMxPort', flag: 'relay-mx-port', section: 'relay', value: 'PORT', fallback: '25', help: 'port to connect to on MX hosts', parse: (v) => parseCount('relay-mx-port', v, 1) }),
  setting({ key: 'relayRetry', flag: 'relay-retry', section: 'relay', list: true, value: 'DURATIONS', fallback: '1m,5m,15m,1h', help: 'waits between delivery attempts; the last one repeats', parse: (v) => v.split(',').map((d) => wrapUnits('relay-retry', parseDuration)(d.trim())) }),
  setting({ key: 'relayLease', flag: 'relay-lease', section: 'relay', value: 'DURATION', fallback: '60s', help: 'with a PostgreSQL --db: a node\'s claim on a relay job, renewed while it delivers; a node that died leaves its jobs to another after this', parse: (v) => { const ms = wrapUnits('relay-lease', parseDuration)(v); return ms >= 1000 ? ms : invalid('relay-lease', 'at least 1s'); } }),
  setting({ key: 'relayGiveUp', flag: 'relay-give-up', section: 'relay', value: 'DURATION', fallback: '24h', help: 'stop retrying a recipient this long after it was queued', parse: wrapUnits('relay-give-up', parseDuration) }),
  setting({ key: 'relayConnectTimeout', flag: 'relay-connect-timeout', section: 'relay', value: 'DURATION', fallback: '30s', help: 'connecting to an MX host', parse: wrapUnits('relay-connect-timeout', parseDuration) }),
  setting({ key: 'relayCommandTimeout', flag: 'relay-command-timeout', section: 'relay', value: 'DURATION', fallback: '5m', help: 'waiting for the greeting and each reply (RFC 5321 4.5.3.2)', parse: wrapUnits('relay-command-timeout', parseDuration) }),
  setting({ key: 'relayDataTimeout', flag: 'relay-data-timeout', section: 'relay', value: 'DURATION', fallback: '10m', help: 'waiting for the reply to the end of DATA (RFC 5321 4.5.3.2)', parse: wrapUnits('relay-data-timeout', parseDuration) }),
  setting({ key: 'relayConcurrency', flag: 'relay-concurrency', section: 'relay', value: 'N', fallback: '2', help: 'deliveries at once per destination domain', parse: (v) => parseCount('relay-concurrency', v, 1) }),
  setting({ key: 'relayDkimDomain', flag: 'relay-dkim-domain', section: 'relay', value: 'DOMAIN', fallback: null, help: 'sign relayed mail with DKIM for this domain (with --relay-dkim-selector and --relay-dkim-key)', parse: (v) => v.trim() }),
  setting({ key: 'relayDkimSelector', flag: 'relay-dkim-selector', section: 'relay', value: 'SELECTOR', fallback: null, help: 'DKIM selector', parse: (v) => v.trim() }),
  setting({ key: 'relayDkimKey', flag: 'relay-dkim-key', section: 'relay', value: 'FILE', fallback: null, help: 'DKIM private key (PEM file)', parse: (v) => v.trim() }),
  // Message checks: run on request only, never on the SMTP path.
  setting({ key: 'spamassassin', flag: 'spamassassin', section: 'checks', value: 'HOST:PORT|unix:PATH', fallback: null, help: 'score messages with this SpamAssassin spamd for the spam check (GET /api/messages/ID/checks/spam, Mailpit\'s sa-check); off unless set', parse: (v) => parseSpamdAddress('spamassassin', v) }),
  setting({ key: 'spamassassinTimeout', flag: 'spamassassin-timeout', section: 'checks', value: 'DURATION', fallback: '8s', help: 'longest spamd may take to score a message (then 504 spamd_timeout)', parse: wrapUnits('spamassassin-timeout', (v) => parseDuration(v) || invalid('spamassassin-timeout', 'must be more than 0')) }),
  setting({ key: 'spamassassinMaxSize', flag: 'spamassassin-max-size', section: 'checks', value: 'SIZE', fallback: '500KB', help: 'send at most this much of a message to spamd, cut at a line end (spamc\'s default limit); the answer says when it was cut', parse: wrapUnits('spamassassin-max-size', (v) => parseSize(v) || invalid('spamassassin-max-size', 'must be more than 0')) }),
  setting({ key: 'dns', flag: 'dns', section: 'general', list: true, value: 'HOST:PORT,...', fallback: null, help: 'DNS servers for relay\'s MX lookups and the deliverability check\'s DKIM and DMARC lookups, e.g. 127.0.0.1:5353 (default: the system\'s; --relay-dns is its older name)', parse: (v) => v.split(',').map((p) => p.trim()).filter(Boolean).map((p) => dnsServer('dns', p)) }),
  // checks: links
  setting({ key: 'linkCheckPrivate', flag: 'link-check-private', section: 'checks', value: '', fallback: 'false', boolean: true, help: 'let the link check fetch loopback, private, link-local and other non-public addresses (links to an app on localhost); off, they are reported as refused (SSRF guard)', parse: (v) => parseBoolean('link-check-private', v) }),
  setting({ key: 'linkCheckTimeout', flag: 'link-check-timeout', section: 'checks', value: 'DURATION', fallback: '10s', help: 'longest the link check waits for one link, its redirects included', parse: wrapUnits('link-check-timeout', (v) => parseDuration(v) || invalid('link-check-timeout', 'must be more than 0')) }),
  // chaos: fault injection for testing an app's retry paths (src/chaos/); nothing changes without a rule.
  setting({ key: 'chaosRule', flag: 'chaos-rule', section: 'chaos', list: true, separator: ';', value: 'SPEC', fallback: null, help: 'a chaos rule, e.g. \'rcpt to=*@bounce.test reply=550:5.1.1:"no such user" first=3\' (README "Chaos"; in KOTAK_CHAOS_RULE separate rules with ;)', parse: (v) => splitRuleSpecs(v) }),
  setting({ key: 'chaosSeed', flag: 'chaos-seed', section: 'chaos', value: 'N', fallback: null, help: 'seed for chaos probabilities that give no seed= (default: drawn at start, shown by GET /api/chaos)', parse: (v) => parseCount('chaos-seed', v, 0) }),
  // Metrics: GET /metrics (Prometheus text); with auth on, or with this token, it asks for credentials.
  setting({ key: 'metricsToken', flag: 'metrics-token', section: 'metrics', value: 'TOKEN', fallback: null, help: 'a token that opens GET /metrics alone (Authorization: Bearer TOKEN), for a Prometheus scraper; once set, /metrics asks for it (or a login that sees every mailbox) even with HTTP authentication off', parse: (v) => { const tokens = parseTokens('metrics-token', v); return tokens.length === 1 ? tokens[0]! : invalid('metrics-token', 'one token, without commas'); } }),
  // Webhooks: POSTs from an outbox in the database, retried; nothing runs without a --webhook URL.
  setting({ key: 'webhook', flag: 'webhook', section: 'webhooks', list: true, value: 'URL', fallback: null, help: 'POST each subscribed event to this http(s) URL, from an outbox in the database, retried until delivered (README "Webhooks"); user:password@ in it is sent as HTTP Basic and never logged', parse: (v) => parseWebhookUrls('webhook', v) }),
  setting({ key: 'webhookEvents', flag: 'webhook-events', section: 'webhooks', list: true, value: 'EVENTS', fallback: 'message:stored', help: `the events every --webhook hears of, comma-separated: ${MAIL_EVENT_NAMES.join(', ')}`, parse: (v) => parseEventNames('webhook-events', v) }),
  setting({ key: 'webhookSecret', flag: 'webhook-secret', section: 'webhooks', value: 'SECRET', fallback: null, help: 'sign each webhook body with HMAC-SHA256 in a Kotak-Signature header (prefer the environment variable; never logged)', parse: (v) => v || invalid('webhook-secret', 'empty secret') }),
  setting({ key: 'webhookFormat', flag: 'webhook-format', section: 'webhooks', value: 'kotak|mailpit', fallback: 'kotak', help: 'the webhook body: Kotak\'s {id, type, timestamp, data}, or Mailpit\'s new-message body (with --webhook-events message:stored only)', parse: (v) => (WEBHOOK_FORMATS.includes(v as WebhookFormat) ? (v as WebhookFormat) : invalid('webhook-format', `"${v}" is not kotak or mailpit`)) }),
  setting({ key: 'webhookTimeout', flag: 'webhook-timeout', section: 'webhooks', value: 'DURATION', fallback: '10s', help: 'longest one webhook request may take; past it the attempt failed and is retried', parse: wrapUnits('webhook-timeout', (v) => parseDuration(v) || invalid('webhook-timeout', 'must be more than 0')) }),
  setting({ key: 'webhookRetryFor', flag: 'webhook-retry-for', section: 'webhooks', value: 'DURATION', fallback: '24h', help: 'keep retrying a webhook delivery this long after its event (backoff from 1s doubling to 1h), then mark it failed', parse: wrapUnits('webhook-retry-for', (v) => parseDuration(v) || invalid('webhook-retry-for', 'must be more than 0')) }),
  setting({ key: 'webhookLease', flag: 'webhook-lease', section: 'webhooks', value: 'DURATION', fallback: '60s', help: 'with a PostgreSQL --db: a node\'s claim on a webhook delivery, renewed while it is sent; a node that died leaves the endpoint to another after this', parse: (v) => { const ms = wrapUnits('webhook-lease', parseDuration)(v); return ms >= 1000 ? ms : invalid('webhook-lease', 'at least 1s'); } }),
  setting({ key: 'parseWorkers', flag: 'parse-workers', section: 'general', value: 'N', fallback: null, help: 'parser threads for large or unusual messages (default: one per CPU core, at most 4)', parse: (v) => parseCount('parse-workers', v, 1) }),
] as const;

export type SettingKey = (typeof SETTINGS)[number]['key'];

export function envName(flag: string): string {
  return `KOTAK_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Raw values by config key, as strings (from flags, env or a library caller). A list setting may
 * come as several strings (a repeated flag): they are joined into its comma form.
 */
export type RawSettings = Partial<Record<SettingKey, string | readonly string[]>>;

function rawText(value: string | readonly string[] | undefined, separator = ','): string | undefined {
  return typeof value === 'string' || value === undefined ? value : value.join(separator);
}

export function resolveConfig(raw: RawSettings, env: NodeJS.ProcessEnv = {}, defaults: RawSettings = {}): Config {
  const values: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const separator = 'separator' in s ? s.separator : ',';
    const text = rawText(raw[s.key], separator) ?? env[envName(s.flag)] ?? rawText(defaults[s.key], separator) ?? s.fallback;
    // An unset list is empty rather than null: callers iterate it.
    values[s.key] = text === null || text === undefined ? ('list' in s && s.list ? [] : null) : (s.parse as (v: string) => unknown)(text);
  }
  values.hostname ??= os.hostname();
  // --relay-dns is the older name of --dns: one setting, given under either name (not both differently).
  const dns = values.dns as string[];
  const relayDns = values.relayDns as string[];
  if (dns.length > 0 && relayDns.length > 0 && dns.join(',') !== relayDns.join(',')) {
    invalid('dns', `--relay-dns is the older name of --dns: give one of them (got ${dns.join(',')} and ${relayDns.join(',')})`);
  }
  values.dns = values.relayDns = dns.length > 0 ? dns : relayDns;
  values.parseWorkers ??= Math.max(1, Math.min(4, os.availableParallelism()));
  const config = values as unknown as Config;
  const dkim = [config.relayDkimDomain, config.relayDkimSelector, config.relayDkimKey].filter((v) => v !== null).length;
  if (dkim !== 0 && dkim !== 3) invalid('relay-dkim-domain', 'DKIM signing needs all three of --relay-dkim-domain, --relay-dkim-selector and --relay-dkim-key');
  if (config.smtpRequireTls && config.smtpTls.mode === 'off') {
    invalid('smtp-require-tls', 'needs --smtp-tls (auto or CERT,KEY)');
  }
  if (config.smtpTlsImplicit && config.smtpTls.mode === 'off') {
    invalid('smtp-tls-implicit', 'needs --smtp-tls (auto or CERT,KEY)');
  }
  if (config.pop3 && config.pop3Auth.mode === 'off') {
    invalid('pop3-auth', 'POP3 needs credentials: an htpasswd FILE, or any (accept every user and password)');
  }
  if (config.pop3TlsImplicit && config.pop3Tls.mode === 'off') {
    invalid('pop3-tls-implicit', 'needs --pop3-tls (auto or CERT,KEY)');
  }
  if (config.imap && config.imapAuth.mode === 'off') {
    invalid('imap-auth', 'IMAP needs credentials: an htpasswd FILE, or any (accept every user and password)');
  }
  if (config.imapTlsImplicit && config.imapTls.mode === 'off') {
    invalid('imap-tls-implicit', 'needs --imap-tls (auto or CERT,KEY)');
  }
  if (config.webhookFormat === 'mailpit' && config.webhookEvents.join(',') !== 'message:stored') {
    invalid('webhook-format', `mailpit: Mailpit's webhook body describes a new message, so it needs --webhook-events message:stored alone (got ${config.webhookEvents.join(',')})`);
  }
  return Object.freeze(config);
}
