/**
 * One registry of Kotak's error codes. Every error a client can see (HTTP JSON body or SMTP
 * reply) is named here once, with the status it maps to, so the same failure reads the same
 * everywhere.
 */

interface ErrorSpec {
  /** HTTP status when the error reaches the API. */
  readonly http: number;
  /** SMTP reply (code and RFC 3463 enhanced code) when the error reaches an SMTP client. */
  readonly smtp?: readonly [code: number, enhanced: string];
  /** POP3 response code (RFC 2449 RESP-CODES, RFC 3206) put in brackets after `-ERR`. */
  readonly pop3?: 'AUTH' | 'SYS/TEMP' | 'SYS/PERM';
  /** IMAP response code (RFC 5530) put in brackets after a tagged `NO`. */
  readonly imap?: 'AUTHENTICATIONFAILED' | 'AUTHORIZATIONFAILED' | 'UNAVAILABLE' | 'SERVERBUG' | 'TOOBIG' | 'OVERQUOTA' | 'LIMIT';
}

export const ERROR_CODES = {
  invalid_request: { http: 400 },
  invalid_query: { http: 400 },
  /** A `?mailbox=` (or `mailbox:`) that is not a mailbox name. */
  invalid_mailbox: { http: 400 },
  invalid_config: { http: 500 },
  not_found: { http: 404 },
  wait_timeout: { http: 408 },
  relay_disabled: { http: 409 },
  relay_not_allowed: { http: 403 },
  origin_not_allowed: { http: 403 },
  host_not_allowed: { http: 403 },
  payload_too_large: { http: 413 },
  /** A stored message that could not be parsed (over a structure limit, or the parser failed on it): its parts cannot be read. */
  message_unparsed: { http: 422 },
  storage_failed: { http: 500, smtp: [451, '4.3.0'], pop3: 'SYS/TEMP', imap: 'UNAVAILABLE' },
  /** At start: the --db path cannot be used (missing directory, permissions, another application's file, in use). */
  database_unusable: { http: 500 },
  /** Free disk space below --min-free-disk: new mail is refused (Postfix answers the same at queue_minfree). */
  insufficient_storage: { http: 507, smtp: [452, '4.3.1'], pop3: 'SYS/TEMP', imap: 'OVERQUOTA' },
  message_too_big: { http: 413, smtp: [552, '5.3.4'], imap: 'TOOBIG' },
  too_many_recipients: { http: 400, smtp: [452, '4.5.3'] },
  auth_failed: { http: 401, smtp: [535, '5.7.8'], pop3: 'AUTH', imap: 'AUTHENTICATIONFAILED' },
  auth_throttled: { http: 429 },
  /** A mail-client login whose user has no mailbox to read (with --mailbox-by-smtp-user, a name that is no mailbox name). */
  no_maildrop: { http: 403, pop3: 'SYS/PERM', imap: 'AUTHORIZATIONFAILED' },
  /** A scoped login's message (Mailpit's send API) would be stored in a mailbox that login may not see: refused whole. */
  mailbox_not_allowed: { http: 403 },
  /** Too many password checks waiting (src/auth/verifier.ts): try again later. RFC 4954's 454 4.7.0. */
  auth_unavailable: { http: 503, smtp: [454, '4.7.0'], pop3: 'SYS/TEMP', imap: 'UNAVAILABLE' },
  tls_required: { http: 403, smtp: [530, '5.7.0'] },
  bad_address: { http: 400, smtp: [501, '5.1.3'] },
  line_too_long: { http: 400, smtp: [500, '5.5.2'] },
  client_limit: { http: 429, smtp: [421, '4.7.0'] },
  session_timeout: { http: 408, smtp: [421, '4.4.2'] },
  shutting_down: { http: 503, smtp: [421, '4.3.2'], pop3: 'SYS/TEMP', imap: 'UNAVAILABLE' },
  internal: { http: 500, smtp: [451, '4.3.0'], pop3: 'SYS/TEMP', imap: 'SERVERBUG' },
  /** The spam check asked of a Kotak started without --spamassassin. */
  spamassassin_disabled: { http: 409 },
  /** spamd refused the connection, has no socket there, or closed it before answering. */
  spamd_unavailable: { http: 503 },
  /** spamd did not answer within --spamassassin-timeout. */
  spamd_timeout: { http: 504 },
  /** spamd answered with an error code, or with something that is not a SPAMD reply. */
  spamd_failed: { http: 502 },
  /** A message too large for a check to read within its bounds (src/checks/): the answer says which limit. */
  check_too_large: { http: 422 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class KotakError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KotakError';
    this.code = code;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** An error shaped the way smtp-server expects: `responseCode`, and the enhanced code leading the text. */
export interface SmtpReplyError extends Error {
  responseCode: number;
}

export function smtpError(code: ErrorCode, text: string): SmtpReplyError {
  const spec: ErrorSpec = ERROR_CODES[code];
  const [responseCode, enhanced] = spec.smtp ?? [451, '4.3.0'];
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode });
}

/** A POP3 error line: `-ERR [CODE] text` with the code's RFC 2449 response code, when it has one. */
export function pop3ErrorLine(code: ErrorCode, text: string): string {
  const spec: ErrorSpec = ERROR_CODES[code];
  return `-ERR ${spec.pop3 ? `[${spec.pop3}] ` : ''}${text}\r\n`;
}

/** The IMAP response code (RFC 5530) of an error code, without brackets; undefined when it has none. */
export function imapResponseCode(code: ErrorCode): string | undefined {
  const spec: ErrorSpec = ERROR_CODES[code];
  return spec.imap;
}

export function isKotakError(err: unknown): err is KotakError {
  return err instanceof KotakError;
}
