/**
 * One SMTP transaction with Kotak: connect (each resolved address in turn until one answers),
 * EHLO, STARTTLS when offered, MAIL FROM, RCPT TO, DATA, QUIT. Reports what happened; deciding
 * the exit status is outcome.ts's job.
 *
 * nodemailer's SMTPConnection speaks the protocol: it pipelines, dot-stuffs, turns bare LF (and
 * bare CR) into CRLF on the wire as SMTP requires, declares SIZE, BODY=8BITMIME when asked, and
 * SMTPUTF8 when an envelope address is not ASCII. The message bytes are otherwise sent as given.
 */
import { isAscii } from 'node:buffer';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { ServerAddress } from './server-address.js';

export interface Submission {
  /** '' for the null sender. */
  readonly from: string;
  readonly to: readonly string[];
  readonly message: Buffer;
  /** The EHLO name. */
  readonly heloName: string;
}

export interface RecipientRefusal {
  readonly recipient: string;
  readonly code: number;
  readonly reply: string;
}

/** The SMTP step a refusal answered. */
export type SmtpStep = 'greeting' | 'EHLO' | 'STARTTLS' | 'MAIL FROM' | 'RCPT TO' | 'DATA';

export type SubmitOutcome =
  /** No address of the server gave a greeting. */
  | { readonly kind: 'unreachable'; readonly reason: string }
  /** The server refused the session or the transaction; nothing was delivered. */
  | { readonly kind: 'refused'; readonly step: SmtpStep; readonly code: number; readonly reply: string; readonly refusedRecipients: readonly RecipientRefusal[] }
  /** The connection failed or went silent after the greeting, before the message was accepted. */
  | { readonly kind: 'lost'; readonly reason: string }
  /** Larger than the SIZE the server announced: not sent. */
  | { readonly kind: 'too-big'; readonly size: number; readonly limit: number }
  /** The message was accepted for `accepted`; `refused` got a 4xx or 5xx to RCPT TO. */
  | { readonly kind: 'sent'; readonly reply: string; readonly accepted: readonly string[]; readonly refused: readonly RecipientRefusal[] };

export interface SubmitTimeouts {
  readonly connectMs: number;
  readonly greetingMs: number;
  /** Longest silence once connected. */
  readonly idleMs: number;
}

/** Kotak is local: an address that does not connect within seconds is not there. */
export const DEFAULT_TIMEOUTS: SubmitTimeouts = { connectMs: 10_000, greetingMs: 30_000, idleMs: 5 * 60_000 };

type SmtpError = SMTPConnection.SMTPError;
type SendResult = { readonly err: SmtpError | null; readonly info?: SMTPConnection.SentMessageInfo };

export async function submit(server: ServerAddress, ips: readonly string[], submission: Submission, timeouts = DEFAULT_TIMEOUTS): Promise<SubmitOutcome> {
  const reasons: string[] = [];
  for (const ip of ips) {
    const outcome = await submitTo(ip, server.port, submission, timeouts);
    if (outcome.kind !== 'unreachable') return outcome;
    reasons.push(ips.length > 1 ? `${ip}: ${outcome.reason}` : outcome.reason);
  }
  // Several addresses that all failed the same way read as one reason.
  const distinct = new Set(reasons.map((r) => r.replace(/^[^ ]+: /, '')));
  return { kind: 'unreachable', reason: distinct.size === 1 ? [...distinct][0]! : reasons.join('; ') };
}

async function submitTo(ip: string, port: number, submission: Submission, timeouts: SubmitTimeouts): Promise<SubmitOutcome> {
  const connection = new SMTPConnection({
    host: ip,
    port,
    name: submission.heloName,
    secure: false,
    // Kotak's STARTTLS certificate is usually self-signed ("--smtp-tls auto"), and this never leaves the machine's own sandbox.
    opportunisticTLS: true,
    tls: { rejectUnauthorized: false },
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.idleMs,
    socketCloseTimeout: 0,
    logger: false,
    debug: false,
  });
  // The first error or close ends the session; every later step races against it.
  let resolveEnded: (err: SmtpError | null) => void = () => undefined;
  const ended = new Promise<SmtpError | null>((resolve) => (resolveEnded = resolve));
  connection.on('error', (err: SmtpError) => resolveEnded(err));
  connection.on('end', () => resolveEnded(null));

  try {
    const opened = await Promise.race([
      new Promise<SmtpError | null>((resolve) => connection.connect((err) => resolve((err as SmtpError | undefined) ?? null))),
      ended.then((err) => err ?? closed('the greeting')),
    ]);
    if (opened) {
      if (opened.responseCode) return refusal(opened, []);
      return { kind: 'unreachable', reason: describeConnectionError(opened, timeouts) };
    }

    const envelope = { from: submission.from, to: [...submission.to], size: submission.message.length, use8BitMime: !isAscii(submission.message) };
    const sent = await Promise.race([
      new Promise<SendResult>((resolve) =>
        connection.send(envelope, submission.message, (err, info) => resolve({ err: (err as SmtpError | null) ?? null, ...(info ? { info } : {}) })),
      ),
      ended.then((err): SendResult => ({ err: err ?? closed('a reply') })),
    ]);
    if (sent.err) {
      // nodemailer checks the EHLO SIZE limit itself and sends nothing.
      if (sent.err.code === 'EMESSAGE' && !sent.err.responseCode && sent.err.command === 'MAIL FROM') {
        await quit(connection, ended);
        return { kind: 'too-big', size: submission.message.length, limit: Number(/(\d+)$/.exec(sent.err.message)?.[1] ?? NaN) };
      }
      if (!sent.err.responseCode) return { kind: 'lost', reason: describeConnectionError(sent.err, timeouts) };
      return refusal(sent.err, recipientRefusals(sent.err.rejectedErrors));
    }
    const info = sent.info!;
    await quit(connection, ended);
    return { kind: 'sent', reply: info.response, accepted: info.accepted, refused: recipientRefusals(info.rejectedErrors) };
  } finally {
    connection.close();
  }
}

/** QUIT, and a moment for the reply, so the server sees a clean end rather than a reset. */
async function quit(connection: SMTPConnection, ended: Promise<unknown>): Promise<void> {
  connection.quit();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
  clearTimeout(timer);
}

function refusal(err: SmtpError, refusedRecipients: RecipientRefusal[]): SubmitOutcome {
  return { kind: 'refused', step: stepOf(err.command), code: err.responseCode!, reply: replyText(err.response ?? err.message), refusedRecipients };
}

function recipientRefusals(errors: readonly SmtpError[] | undefined): RecipientRefusal[] {
  return (errors ?? []).map((e) => ({ recipient: e.recipient ?? '?', code: e.responseCode ?? 0, reply: replyText(e.response ?? e.message) }));
}

function stepOf(command: string | undefined): SmtpStep {
  switch (command) {
    case 'EHLO':
    case 'HELO':
    case 'LHLO':
      return 'EHLO';
    case 'STARTTLS':
    case 'MAIL FROM':
    case 'RCPT TO':
    case 'DATA':
      return command;
    default:
      return 'greeting';
  }
}

/** A multi-line reply on one line. */
function replyText(reply: string): string {
  return reply.replace(/\s*\r?\n\s*/g, ' ').trim();
}

function closed(waitingFor: string): SmtpError {
  return Object.assign(new Error(`connection closed while waiting for ${waitingFor}`), { code: 'ECONNECTION' }) as SmtpError;
}

function describeConnectionError(err: SmtpError, timeouts: SubmitTimeouts): string {
  switch (err.originalCode ?? err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'EADDRNOTAVAIL':
      return 'address not available';
  }
  switch (err.timeoutType) {
    case 'CONNECT_TIMEOUT':
      return `no answer within ${timeouts.connectMs / 1000} s`;
    case 'GREETING_TIMEOUT':
      return `no greeting within ${timeouts.greetingMs / 1000} s`;
    case 'SOCKET_TIMEOUT':
      return `no reply within ${timeouts.idleMs / 1000} s`;
  }
  return err.message;
}
