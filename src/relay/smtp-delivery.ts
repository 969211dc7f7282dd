/**
 * One delivery attempt to one host over SMTP, made the way an MTA makes it (RFC 5321): EHLO with
 * our hostname, STARTTLS whenever offered, AUTH for a smarthost, one transaction for all the
 * recipients given, QUIT. The caller decides which hosts to try and in which order; this reports
 * what one host said about each recipient, or that the host itself failed and the next one should
 * be tried.
 *
 * The protocol engine is nodemailer's SMTPConnection (pipelining, dot-stuffing, SIZE, SMTPUTF8).
 * This module adds what an MTA needs on top: the RFC 5321 timeouts (smtp-timeouts), per-recipient
 * results (smtp-outcome), the TLS and credential policy, and a redacted transcript
 * (smtp-session-recorder). Message content and credentials never reach a log or a result.
 */
import { Readable } from 'node:stream';
import { isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import pino, { type Logger } from 'pino';
import { anyRecipientAnswered, decideRecipients, type RecipientOutcome } from './smtp-outcome.js';
import { prepareOutgoingMessage, type DkimSettings, type OutgoingMessage } from './smtp-message.js';
import { commandVerb, GREETING, SmtpSessionRecorder } from './smtp-session-recorder.js';
import { backstopTimeouts, Deadline, timeoutFor, type DeliveryTimeouts } from './smtp-timeouts.js';

export type { RecipientOutcome, RecipientStatus } from './smtp-outcome.js';
export type { DkimSettings } from './smtp-message.js';
export type { DeliveryTimeouts } from './smtp-timeouts.js';
export { RFC5321_TIMEOUTS } from './smtp-timeouts.js';
export { normalizeLineEndings } from './smtp-message.js';

export interface DeliveryTarget {
  /** Where to connect: normally an address the caller resolved with its own resolver. */
  readonly host: string;
  readonly port: number;
  /** Shown in results and logs, e.g. the MX name. Defaults to `host`. */
  readonly label?: string;
  /**
   * The name TLS presents (SNI) and, with `rejectUnauthorized`, checks the certificate against.
   * Defaults to `label` (the MX name) unless that is an IP address, else to `host` unless that is.
   */
  readonly servername?: string;
}

export interface SmarthostAuth {
  readonly user: string;
  /** Never logged, never in a result or transcript. */
  readonly pass: string;
  /**
   * Send credentials over a connection without TLS. Off by default: the attempt fails instead
   * (as Postfix's `noplaintext` and smtp-server's refusal of insecure AUTH do).
   */
  readonly allowPlaintext?: boolean;
}

export interface DeliveryOptions {
  /** The EHLO name: the configured hostname. */
  readonly heloName: string;
  /**
   * opportunistic: STARTTLS whenever offered, plaintext otherwise (RFC 7435);
   * required: a server that does not offer STARTTLS is a temporary host failure, nothing is sent;
   * implicit: TLS from the first byte (a smarthost on 465).
   */
  readonly tls: 'opportunistic' | 'required' | 'implicit';
  /** Verify the certificate. MX certificates are often self-signed or for another name, hence false for MX by default. */
  readonly rejectUnauthorized: boolean;
  /** Smarthost credentials. */
  readonly auth?: SmarthostAuth;
  readonly timeouts: DeliveryTimeouts;
  /** Sign before sending (relaxed/relaxed, rsa-sha256). */
  readonly dkim?: DkimSettings;
}

export interface DeliveryEnvelope {
  /** '' for the null sender. */
  readonly from: string;
  /** Recipients of one domain: they share one transaction. */
  readonly to: readonly string[];
}

export interface TlsSession {
  /** e.g. "TLSv1.3" */
  readonly protocol: string;
  /** OpenSSL/IANA cipher name, e.g. "TLS_AES_256_GCM_SHA384" */
  readonly cipher: string;
  /** Whether the certificate verified (it may be used unverified when `rejectUnauthorized` is false). */
  readonly authorized: boolean;
}

interface AttemptDetails {
  readonly host: string;
  readonly port: number;
  readonly label: string;
  /** Whether a TCP connection was made. */
  readonly connected: boolean;
  /** null: plaintext, or no connection. */
  readonly tls: TlsSession | null;
  /** `C: …` / `S: …` / `-- …` lines; no message data, AUTH redacted. */
  readonly transcript: readonly string[];
  readonly elapsedMs: number;
}

/** The server took part in a transaction: each recipient has its status. */
export interface HostAttempted extends AttemptDetails {
  readonly kind: 'attempted';
  readonly recipients: readonly RecipientOutcome[];
}

/** Nothing was decided about any recipient here: try the next host. */
export interface HostFailed extends AttemptDetails {
  readonly kind: 'host-failed';
  /**
   * False only when the host refused for good: a 5xx reply before the transaction (greeting,
   * EHLO/HELO, AUTH), a message larger than its declared SIZE, or a credential policy refusal.
   */
  readonly temporary: boolean;
  readonly reason: string;
  /** The server's reply code when a reply caused the failure. */
  readonly code: number | null;
}

export type HostAttempt = HostAttempted | HostFailed;

type Verdict =
  | { readonly kind: 'attempted'; readonly recipients: readonly RecipientOutcome[] }
  | { readonly kind: 'host-failed'; readonly temporary: boolean; readonly reason: string; readonly code: number | null };

const SILENT_LOG = pino({ level: 'silent' });

/** Message data is handed to the socket in blocks this size; each block re-arms the data block timeout. */
const DATA_BLOCK_BYTES = 64 * 1024;

/**
 * Makes one attempt. Resolves with the outcome whatever the server does; rejects only for a
 * configuration error (an unusable DKIM key, `KotakError` invalid_config), before connecting.
 */
export async function deliverToHost(
  target: DeliveryTarget,
  envelope: DeliveryEnvelope,
  raw: Buffer,
  options: DeliveryOptions,
  log: Logger = SILENT_LOG,
): Promise<HostAttempt> {
  const started = performance.now();
  const label = target.label ?? target.host;
  const recipients = [...new Set(envelope.to)];
  const message = await prepareOutgoingMessage(raw, options.dkim);
  if (recipients.length === 0) {
    return { kind: 'attempted', recipients: [], host: target.host, port: target.port, label, connected: false, tls: null, transcript: [], elapsedMs: 0 };
  }

  const session = new SmtpSession(target, options);
  let verdict: Verdict;
  try {
    verdict = await converse(session, envelope.from, recipients, message, options);
  } finally {
    session.close();
  }

  const details: AttemptDetails = {
    host: target.host,
    port: target.port,
    label,
    connected: session.recorder.connected,
    tls: session.tls,
    transcript: session.recorder.transcript,
    elapsedMs: Math.round(performance.now() - started),
  };
  const fields = { host: target.host, port: target.port, label, tls: details.tls?.protocol ?? null, ms: details.elapsedMs };
  if (verdict.kind === 'host-failed') {
    log.info({ ...fields, temporary: verdict.temporary, code: verdict.code, reason: verdict.reason }, 'relay host failed');
  } else {
    const count = (status: string): number => verdict.recipients.filter((r) => r.status === status).length;
    log.info({ ...fields, delivered: count('delivered'), deferred: count('deferred'), failed: count('failed') }, 'relay attempt finished');
  }
  return { ...verdict, ...details };
}

async function converse(session: SmtpSession, from: string, recipients: readonly string[], message: OutgoingMessage, options: DeliveryOptions): Promise<Verdict> {
  const opened = await session.open();
  if (!opened.ok) return hostFailed(session.describe(opened.end));

  // Checked here rather than with nodemailer's requireTLS, which sends STARTTLS even to a server
  // that never offered it and reports only the refusal.
  if (options.tls === 'required' && !session.secure) {
    await session.quit();
    return { kind: 'host-failed', temporary: true, reason: 'TLS is required but the server does not offer STARTTLS', code: null };
  }

  const limit = session.recorder.sizeLimit();
  if (limit !== null && message.bytes.length > limit) {
    await session.quit();
    return { kind: 'host-failed', temporary: false, reason: `the message is ${message.bytes.length} bytes and the server accepts at most ${limit} (EHLO SIZE)`, code: null };
  }

  if (options.auth) {
    const refusal = authRefusal(session, options.auth);
    if (refusal) {
      await session.quit();
      return { kind: 'host-failed', temporary: false, reason: refusal, code: null };
    }
    const loggedIn = await session.login(options.auth);
    if (!loggedIn.ok) {
      const failure = session.describe(loggedIn.end); // before QUIT adds its own exchange
      await session.quit();
      return hostFailed(failure);
    }
  }

  // RFC 6531 3.4: an address that is not ASCII goes only to a server that offers SMTPUTF8. Those
  // recipients fail here for good (as Postfix bounces them); the others are sent as usual.
  const fromNeedsSmtpUtf8 = needsSmtpUtf8(from);
  const refusedHere = session.offersSmtpUtf8 ? [] : fromNeedsSmtpUtf8 ? recipients : recipients.filter(needsSmtpUtf8);
  if (refusedHere.length > 0) {
    const reason = fromNeedsSmtpUtf8
      ? `SMTPUTF8 is required for the sender <${from}>, but was not offered by ${session.label}`
      : `SMTPUTF8 is required for this address, but was not offered by ${session.label}`;
    session.recorder.note(`not sent to ${refusedHere.length} recipient(s): ${reason}`);
    const failed = refusedHere.map((recipient): RecipientOutcome => ({ recipient, status: 'failed', code: null, reply: reason }));
    const sendable = recipients.filter((recipient) => !refusedHere.includes(recipient));
    if (sendable.length === 0) {
      await session.quit();
      return { kind: 'attempted', recipients: failed };
    }
    const verdict = await sendAndDecide(session, from, sendable, message);
    // A host failure moves the rest to the next host; those refused here stay refused.
    return verdict.kind === 'attempted' ? { kind: 'attempted', recipients: [...verdict.recipients, ...failed] } : verdict;
  }
  return sendAndDecide(session, from, recipients, message);
}

/** Whether an envelope address holds anything but ASCII (after release, only a local part can). */
function needsSmtpUtf8(address: string): boolean {
  return !/^[\x00-\x7F]*$/.test(address);
}

async function sendAndDecide(session: SmtpSession, from: string, recipients: readonly string[], message: OutgoingMessage): Promise<Verdict> {
  const sent = await session.send(from, recipients, message);
  // A refused envelope or message ends send() with an error too; the replies say who was refused.
  const failure = sent.ok ? { reason: 'no reply', code: null } : session.describe(sent.end);
  const outcomes = decideRecipients(recipients, session.recorder.exchanges, failure.reason);
  const messageSent = session.recorder.messageSent;
  await session.quit();
  // Once the data has left, another host could deliver a second copy (RFC 5321 6.1): the
  // recipients stay with this attempt, deferred, instead of falling over to the next host.
  if (!messageSent && !anyRecipientAnswered(outcomes)) return hostFailed(failure);
  return { kind: 'attempted', recipients: outcomes };
}

function authRefusal(session: SmtpSession, auth: SmarthostAuth): string | null {
  if (!session.secure && !auth.allowPlaintext) return 'refusing to send credentials over a connection without TLS';
  if (!session.offersAuth) return 'the server does not offer AUTH';
  return null;
}

function hostFailed(failure: { reason: string; code: number | null }): Verdict {
  // A 5xx is the server's final word about itself; anything else (4xx, no reply) may pass.
  return { kind: 'host-failed', temporary: failure.code === null || failure.code < 500, reason: failure.reason, code: failure.code };
}

/** What nodemailer's errors carry (all optional: some come from the socket, some from replies). */
interface SmtpClientError extends Error {
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
}

/** Why a session stopped before the step at hand finished. */
type SessionEnd =
  | { readonly kind: 'timeout'; readonly waitingFor: string; readonly ms: number }
  | { readonly kind: 'error'; readonly error: SmtpClientError; readonly waitingFor: string }
  | { readonly kind: 'closed'; readonly waitingFor: string };

type Step = { readonly ok: true } | { readonly ok: false; readonly end: SessionEnd };

/**
 * One SMTPConnection with the timeouts and recording around it. Each step resolves with its
 * value or with why the session ended, whichever comes first; nothing here throws.
 */
class SmtpSession {
  readonly recorder: SmtpSessionRecorder;
  readonly #connection: SMTPConnection;
  readonly #deadline: Deadline;
  readonly #timeouts: DeliveryTimeouts;
  readonly #ended: Promise<SessionEnd>;
  #endedWith: SessionEnd | null = null;
  #tls: TlsSession | null = null;
  readonly #label: string;

  constructor(target: DeliveryTarget, options: DeliveryOptions) {
    this.#timeouts = options.timeouts;
    let resolveEnded: (end: SessionEnd) => void = () => undefined;
    this.#ended = new Promise((resolve) => (resolveEnded = resolve));
    const end = (how: SessionEnd): void => {
      if (this.#endedWith) return;
      this.#endedWith = how;
      this.#deadline.clear();
      resolveEnded(how);
    };

    this.#deadline = new Deadline((ms) => {
      end({ kind: 'timeout', waitingFor: this.recorder.waitingFor(), ms });
      this.#connection.close();
    });
    this.recorder = new SmtpSessionRecorder({
      onActivity: (awaiting) => this.#deadline.arm(timeoutFor(awaiting, this.#timeouts)),
      onSecured: () => this.#captureTls(),
    });

    const label = target.label ?? target.host;
    this.#label = label;
    const servername = target.servername ?? (isIP(label) ? undefined : label);
    this.#connection = new SMTPConnection({
      host: target.host,
      port: target.port,
      name: options.heloName,
      secure: options.tls === 'implicit',
      // opportunistic: a refused STARTTLS continues in plaintext; required: it fails the host.
      opportunisticTLS: options.tls === 'opportunistic',
      ...(servername ? { servername } : {}),
      tls: { rejectUnauthorized: options.rejectUnauthorized },
      lmtp: false,
      ...backstopTimeouts(options.timeouts),
      // Destroy rather than half-close: QUIT is the polite ending, and a session that timed out
      // should not linger for a server that stopped reading and would never see our FIN.
      socketCloseTimeout: 0,
      logger: this.recorder.logger,
      transactionLog: true,
      // `debug` would pass the message data to the logger; it stays off.
      debug: false,
    });
    this.#connection.on('error', (error: SmtpClientError) => end({ kind: 'error', error, waitingFor: this.recorder.waitingFor() }));
    this.#connection.on('end', () => end({ kind: 'closed', waitingFor: this.recorder.waitingFor() }));
  }

  get secure(): boolean {
    return this.#connection.secure;
  }

  get offersAuth(): boolean {
    return this.#connection.allowsAuth;
  }

  /** Whether the last EHLO listed SMTPUTF8 (RFC 6531). */
  get offersSmtpUtf8(): boolean {
    return this.recorder.extensions().some((extension) => /^SMTPUTF8$/i.test(extension));
  }

  /** The host as results name it (the MX name). */
  get label(): string {
    return this.#label;
  }

  get tls(): TlsSession | null {
    return this.#tls;
  }

  /** Connect, greeting, EHLO (HELO if refused), STARTTLS and EHLO again when offered. */
  open(): Promise<Step> {
    this.#deadline.arm(timeoutFor('connection', this.#timeouts));
    // The callback gets an error only for a silent close before the greeting; other failures come as 'error'.
    return this.#step((settle) => this.#connection.connect((err) => settle(err)));
  }

  login(auth: SmarthostAuth): Promise<Step> {
    // A fresh object: nodemailer adds the credentials to what it is given and keeps it.
    return this.#step((settle) => this.#connection.login({ user: auth.user, pass: auth.pass }, (err) => settle(err)));
  }

  send(from: string, recipients: readonly string[], message: OutgoingMessage): Promise<Step> {
    const envelope = { from, to: [...recipients], size: message.bytes.length, use8BitMime: message.eightBit };
    const data = dataBlocks(message.bytes, () => this.recorder.dataProgress());
    return this.#step((settle) => this.#connection.send(envelope, data, (err) => settle(err)));
  }

  /** QUIT and wait for the server to close (bounded by the command timeout); outcomes are already known. */
  async quit(): Promise<void> {
    if (this.#endedWith) return;
    this.#connection.quit();
    await this.#ended;
  }

  close(): void {
    this.#deadline.clear();
    this.#connection.close();
  }

  /** A reason fit for the delivery panel, and the reply code when a reply caused it. */
  describe(end: SessionEnd): { reason: string; code: number | null } {
    const last = this.recorder.lastExchange;
    // 421 always ends the session; any other refusal does when nothing else was outstanding.
    if (last && end.kind !== 'timeout' && (last.code === 421 || (this.recorder.settled && last.code >= 400))) {
      const reason = last.command === GREETING ? `refused to talk to us: ${last.reply}` : `${last.reply} (in reply to ${commandVerb(last.command)})`;
      return { reason, code: last.code };
    }
    switch (end.kind) {
      case 'timeout':
        return { reason: `timed out after ${end.ms} ms waiting for ${end.waitingFor}`, code: null };
      case 'closed':
        return { reason: `connection closed by the server while waiting for ${end.waitingFor}`, code: null };
      case 'error':
        return { reason: describeError(end.error, end.waitingFor), code: null };
    }
  }

  #step(start: (settle: (err?: Error | null) => void) => void): Promise<Step> {
    if (this.#endedWith) return Promise.resolve({ ok: false, end: this.#endedWith });
    const work = new Promise<Step>((resolve) =>
      start((err) => resolve(err ? { ok: false, end: { kind: 'error', error: err, waitingFor: this.recorder.waitingFor() } } : { ok: true })),
    );
    return Promise.race([work, this.#ended.then((end): Step => ({ ok: false, end }))]);
  }

  #captureTls(): void {
    const socket = this.#connection._socket;
    if (!(socket instanceof TLSSocket) || this.#tls) return;
    const protocol = socket.getProtocol() ?? 'unknown';
    const cipher = socket.getCipher()?.name ?? 'unknown';
    this.#tls = { protocol, cipher, authorized: socket.authorized };
    const verified = socket.authorized ? 'certificate verified' : `certificate not verified: ${String(socket.authorizationError ?? 'unknown')}`;
    this.recorder.note(`TLS ${protocol} ${cipher} (${verified})`);
  }
}

function describeError(error: SmtpClientError, waitingFor: string): string {
  const cause = error.originalCode ?? error.code;
  switch (cause) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return `connection reset by the server while waiting for ${waitingFor}`;
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
  }
  if (waitingFor === 'the TLS handshake' || error.code === 'ETLS' || /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(cause ?? '')) {
    return `TLS handshake failed: ${error.message}`;
  }
  if (error.code === 'ECONNECTION' && !error.originalCode) return `connection closed by the server while waiting for ${waitingFor}`;
  return error.message;
}

/** The message as a stream of blocks, so each block the socket takes counts as progress. */
function dataBlocks(bytes: Buffer, onBlock: () => void): Readable {
  let offset = 0;
  return new Readable({
    read() {
      onBlock();
      if (offset >= bytes.length) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + DATA_BLOCK_BYTES, bytes.length);
      this.push(bytes.subarray(offset, end));
      offset = end;
    },
  });
}
