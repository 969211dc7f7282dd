/**
 * One SMTP transaction with one server, for the relay queue: connect, EHLO with our hostname,
 * STARTTLS when offered (or required), AUTH for a smarthost, MAIL/RCPT for the recipients of one
 * domain, the stored bytes (bare LF made CRLF; DKIM-signed when configured), QUIT. The protocol
 * itself is nodemailer's SMTPConnection; this module decides what each reply means for each
 * recipient and keeps a transcript without the message or credentials.
 */
import type { TLSSocket } from 'node:tls';
import DKIM from 'nodemailer/lib/dkim/index.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { HostOutcome, RecipientOutcome } from './queue.js';

export interface SmtpTransportOptions {
  readonly heloName: string;
  /** opportunistic: STARTTLS whenever offered (plaintext if not); required: refuse a server without it; implicit: TLS from the first byte. */
  readonly tls: 'opportunistic' | 'required' | 'implicit' | 'none';
  /** MX certificates are often self-signed or for another name; opportunistic TLS (RFC 7435) still encrypts. */
  readonly rejectUnauthorized: boolean;
  readonly auth?: { readonly user: string; readonly pass: string } | null;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly dataTimeoutMs: number;
  readonly dkim?: { readonly domainName: string; readonly keySelector: string; readonly privateKey: string } | null;
}

/** Bare LF becomes CRLF (RFC 5321 2.3.8); CRLF and lone CR are left as they are. */
export function normalizeLineEndings(raw: Buffer): Buffer {
  if (!raw.includes(0x0a)) return raw;
  let start = 0;
  const parts: Buffer[] = [];
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, i + 1)) {
    if (i > 0 && raw[i - 1] === 0x0d) continue;
    parts.push(raw.subarray(start, i), Buffer.from('\r\n'));
    start = i + 1;
  }
  if (parts.length === 0) return raw;
  parts.push(raw.subarray(start));
  return Buffer.concat(parts);
}

async function dkimSign(raw: Buffer, dkim: NonNullable<SmtpTransportOptions['dkim']>): Promise<Buffer> {
  const signer = new DKIM({ domainName: dkim.domainName, keySelector: dkim.keySelector, privateKey: dkim.privateKey });
  const chunks: Buffer[] = [];
  for await (const chunk of signer.sign(raw)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const KNOWN_COMMAND = /^(EHLO|HELO|STARTTLS|MAIL FROM|RCPT TO|DATA|QUIT|RSET|NOOP)\b/i;

/** Collects the dialogue nodemailer logs, keeping commands and replies only. */
function transcriptLogger(transcript: string[]) {
  const record = (data: unknown, message: unknown) => {
    const tnx = (data as { tnx?: string } | undefined)?.tnx;
    const line = String(message ?? '').replace(/\r?\n/g, ' | ');
    if (tnx === 'server') transcript.push(`S: ${line}`);
    else if (tnx === 'client') {
      // Credentials (AUTH and its continuation lines) and anything else unexpected are never kept.
      transcript.push(KNOWN_COMMAND.test(line) ? `C: ${line}` : /^AUTH\b/i.test(line) ? `C: AUTH ${line.split(' ')[1] ?? ''} (credentials hidden)` : 'C: (hidden)');
    }
  };
  const quiet = () => undefined;
  return { level: 'debug', trace: quiet, debug: record, info: quiet, warn: quiet, error: quiet, fatal: quiet, child: () => transcriptLogger(transcript) };
}

function tlsOf(connection: SMTPConnection): string | null {
  const socket = (connection as unknown as { _socket?: TLSSocket })._socket;
  if (!connection.secure || !socket || typeof socket.getProtocol !== 'function') return null;
  return [socket.getProtocol(), socket.getCipher()?.name].filter(Boolean).join(' ');
}

function statusOf(code: number | undefined): RecipientOutcome['status'] {
  return code !== undefined && code >= 500 && code < 600 ? 'failed' : 'deferred';
}

type SmtpError = Error & { code?: string; responseCode?: number; response?: string; recipient?: string; rejectedErrors?: SmtpError[] };

export async function deliverOverSmtp(
  target: { readonly host: string; readonly port: number; readonly label: string },
  envelope: { readonly from: string; readonly to: readonly string[] },
  raw: Buffer,
  options: SmtpTransportOptions,
): Promise<HostOutcome> {
  const transcript: string[] = [];
  const connection = new SMTPConnection({
    host: target.host,
    port: target.port,
    name: options.heloName,
    secure: options.tls === 'implicit',
    requireTLS: options.tls === 'required',
    opportunisticTLS: options.tls === 'opportunistic',
    ignoreTLS: options.tls === 'none',
    tls: { rejectUnauthorized: options.rejectUnauthorized, servername: /^[\d.]+$|:/.test(target.label) ? undefined : target.label },
    connectionTimeout: options.connectTimeoutMs,
    greetingTimeout: options.commandTimeoutMs,
    socketTimeout: Math.max(options.commandTimeoutMs, options.dataTimeoutMs),
    logger: transcriptLogger(transcript) as unknown as SMTPConnection.Options['logger'],
    transactionLog: true,
    debug: false,
  });
  connection.on('error', () => undefined);
  try {
    try {
      await new Promise<void>((resolve, reject) => {
        connection.once('error', reject);
        connection.connect(() => {
          connection.off('error', reject);
          resolve();
        });
      });
      if (options.auth) {
        await new Promise<void>((resolve, reject) => connection.login({ user: options.auth!.user, pass: options.auth!.pass }, (err) => (err ? reject(err) : resolve())));
      }
    } catch (err) {
      const e = err as SmtpError;
      const tlsProblem = options.tls === 'required' && /STARTTLS|TLS/i.test(e.message) ? 'the server does not offer STARTTLS, and --relay-require-tls is set' : null;
      return { kind: 'host-failed', reason: tlsProblem ?? e.response ?? e.message, transcript };
    }

    let message = normalizeLineEndings(raw);
    if (options.dkim) message = await dkimSign(message, options.dkim);
    const tls = tlsOf(connection);
    const result = await new Promise<{ err: SmtpError | null; info: SMTPConnection.SentMessageInfo | null }>((resolve) =>
      connection.send({ from: envelope.from, to: [...envelope.to] }, message, (err, info) => resolve({ err: (err as SmtpError | null) ?? null, info: info ?? null })),
    );
    const rejected = new Map<string, SmtpError>();
    for (const e of [...(result.err?.rejectedErrors ?? []), ...((result.info as { rejectedErrors?: SmtpError[] } | null)?.rejectedErrors ?? [])]) {
      if (e.recipient) rejected.set(e.recipient.toLowerCase(), e);
    }
    const recipients: RecipientOutcome[] = envelope.to.map((recipient) => {
      const refused = rejected.get(recipient.toLowerCase());
      if (refused) return { recipient, status: statusOf(refused.responseCode), reply: refused.response ?? refused.message };
      if (result.err) {
        // MAIL FROM or the end of DATA failed: the reply decides for every recipient still standing.
        if (result.err.code === 'ECONNECTION' || result.err.code === 'ETIMEDOUT' || result.err.code === 'ESOCKET') {
          return { recipient, status: 'deferred', reply: result.err.response ?? result.err.message };
        }
        return { recipient, status: statusOf(result.err.responseCode), reply: result.err.response ?? result.err.message };
      }
      return { recipient, status: 'delivered', reply: result.info?.response ?? '250' };
    });
    return { kind: 'attempted', tls, recipients, transcript };
  } finally {
    try {
      connection.quit();
    } catch {
      connection.close();
    }
  }
}
