/**
 * How `kotak sendmail` ends. Callers of sendmail(8) (PHP's mail(), cron, MTAs, mail libraries)
 * read the exit status, not the text, so the statuses are sysexits.h values, the same ones
 * sendmail and Postfix use. This is sendmail's own registry: its failures never reach an HTTP
 * client or an SMTP reply, which is what src/errors.ts maps.
 */

export const EXIT = {
  ok: 0,
  /** EX_USAGE: bad flags, no recipients, an unsupported mode. */
  usage: 64,
  /** EX_DATAERR: the message or its sender was refused for good, or a -t header is unusable. */
  dataError: 65,
  /** EX_NOUSER: a recipient was refused for good (5xx to RCPT TO). */
  noUser: 67,
  /** EX_UNAVAILABLE: Kotak's SMTP server could not be reached, or refused the session for good. */
  unavailable: 69,
  /** EX_SOFTWARE: a bug of ours. */
  software: 70,
  /** EX_IOERR: standard input could not be read. */
  ioError: 74,
  /** EX_TEMPFAIL: a 4xx reply, or the connection was lost mid-session: try again later. */
  tempFail: 75,
  /** EX_NOPERM: the server wants authentication, which kotak sendmail does not do. */
  noPermission: 77,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** A failure that ends the command with `status` and one `sendmail: <message>` line on stderr. */
export class SendmailFailure extends Error {
  constructor(
    readonly status: ExitStatus,
    message: string,
  ) {
    super(message);
    this.name = 'SendmailFailure';
  }
}

export function usageError(message: string): SendmailFailure {
  return new SendmailFailure(EXIT.usage, message);
}
