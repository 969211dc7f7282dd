/**
 * The catching SMTP server: smtp-server with Kotak's hooks. It accepts any sender and recipient
 * (except addresses with control characters), reads DATA into memory within the size limit, notes
 * bare line endings, and answers 250 only after `deliver` has committed the message, with its id
 * in the reply. Hostile clients meet connection and rate limits (./client-limits.ts), an idle
 * timeout, a cap on the session's length and limits on command lines.
 */
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession, type SMTPServerDataStream } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { hasControlCharacter } from './address-check.js';
import { ClientLimits, type ClientLimitsConfig } from './client-limits.js';
import { FastDataSmtpStream } from './data-stream.js';
import { IntakeBudget } from './intake-budget.js';
import { LineEndingWatch } from './line-endings.js';
import { smtpError, type SmtpReplyError } from '../errors.js';
import type { Envelope, SmtpWarning } from '../mail/types.js';
import type { CredentialStore } from './htpasswd.js';
import type { TlsMaterial } from './tls.js';

export type SmtpAuthMode = { readonly mode: 'off' } | { readonly mode: 'any' } | { readonly mode: 'file'; readonly path: string };

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  /** The name in the greeting and EHLO reply. */
  readonly hostname: string;
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  readonly requireTls: boolean;
  /** Message bytes held in memory across all connections before reading pauses (default 32 MB). */
  readonly intakeBudgetBytes?: number;
  /** Connections at once and rates, in total and per client address (default: none). */
  readonly clientLimits?: ClientLimitsConfig;
  /** How long the client may stay silent when it owes a command or data (default 5 min, RFC 5321 4.5.3.2). */
  readonly idleTimeoutMs?: number;
  /** The longest a whole session may last, however busy the client is (0 or absent: no limit). */
  readonly sessionTimeoutMs?: number;
}

export interface SmtpDeps {
  /** Stores the message durably and returns its id; rejects when it could not. */
  readonly deliver: (raw: Buffer, envelope: Envelope) => Promise<string>;
  readonly auth: SmtpAuthMode;
  /** Present when auth mode is 'file'. */
  readonly credentials: CredentialStore | null;
  /** Present when TLS is on: STARTTLS is then advertised. */
  readonly tls: TlsMaterial | null;
  readonly log: Logger;
  /** False while the disk is too full for new mail: MAIL is then refused with 452 4.3.1. */
  readonly hasRoom?: () => Promise<boolean>;
}

export interface RunningSmtpServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

const ENHANCED_CODE_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * Command line lengths in octets, without the CRLF. RFC 5321 4.5.3.1.4 allows 512 with it; MAIL
 * and RCPT carry ESMTP parameters that extensions add to that (RFC 1870 +26, RFC 3461 +100/+500,
 * RFC 4954 +500), so they get Postfix's line_length_limit; an AUTH line and the lines of a SASL
 * exchange may be 12288 (RFC 4954 4). Longer lines are answered 500 5.5.2 and not run. Past
 * smtp-server's own 16 KB buffer, a line is not even kept: 500 5.5.2 and the connection closes.
 */
const COMMAND_LINE_MAX = 510;
const ADDRESS_COMMAND_LINE_MAX = 2046;
const SASL_LINE_MAX = 12286;
const ADDRESS_COMMAND = /^(?:MAIL|RCPT)\b/i;
const AUTH_COMMAND = /^AUTH\b/i;
/** After this many refused commands (too long, unknown) the client is disconnected, as smtp-server does. */
const MAX_REFUSED_COMMANDS = 10;

/** What every connection of a server shares: admission, the session cap, the log. */
interface ConnectionPolicy {
  readonly limits: ClientLimits;
  readonly sessionTimeoutMs: number;
  readonly log: Logger;
}

function reply(connection: SMTPConnection, err: SmtpReplyError): void {
  connection.send(err.responseCode, err.message);
}

/**
 * smtp-server's connection with Kotak's adjustments: admission by the client limits, an immediate
 * greeting, the session cap, command line lengths, a faster DATA scanner, corked replies, and
 * exact reply codes. smtp-server prefixes replies with enhanced
 * status codes from a fixed table, and two of its choices do not fit: it answers an accepted
 * DATA with 2.6.0 (RFC 3463: "other or undefined media error"); we say 2.0.0 as Postfix does.
 * And our errors carry their own precise code in the text ("4.5.3 Too many recipients"), which
 * must not get a second, generic one in front.
 */
class KotakConnection extends SMTPConnection {
  /** The client address this connection counts against, until it is released. */
  #admittedAs: string | null = null;
  #sessionTimer: NodeJS.Timeout | null = null;
  /** The session cap passed while the client was waiting for our reply: it ends after that reply. */
  #sessionOver = false;

  get #policy(): ConnectionPolicy {
    return (this._server as KotakSmtpServer).policy;
  }

  /**
   * smtp-server waits 100 ms before the greeting to catch spammers that talk too early. A sandbox
   * has no spammers but many test connections: greet at once, as Mailpit and Postfix do. The
   * connection limits are checked first; a refused client hears 421 4.7.0 instead of the greeting.
   */
  override init(): void {
    this._setListeners(() => {
      const policy = this.#policy;
      const refusal = policy.limits.admitConnection(this.remoteAddress);
      if (refusal) {
        policy.log.info({ client: this.remoteAddress, limit: refusal.limit }, 'smtp connection refused');
        reply(this, smtpError('client_limit', refusal.text));
        return;
      }
      this.#admittedAs = this.remoteAddress;
      if (policy.sessionTimeoutMs > 0) {
        this.#sessionTimer = setTimeout(() => this.#sessionTimeUp(), policy.sessionTimeoutMs);
        this.#sessionTimer.unref();
      }
      this.connectionReady();
    });
  }

  /**
   * The session cap: a client that keeps the connection busy (one byte a second never trips the
   * idle timeout) is cut off. Not while it waits for us (a message being stored): the cut then
   * follows our reply, so a message is never both stored and refused.
   */
  #sessionTimeUp(): void {
    this.#sessionTimer = null;
    if (this._closing || this._closed) return;
    if (this.#waitingForUs()) {
      this.#sessionOver = true;
      return;
    }
    this.#policy.log.info({ client: this.remoteAddress }, 'smtp session time limit reached');
    reply(this, smtpError('session_timeout', 'Session time limit reached, closing connection'));
  }

  /** The same test smtp-server's idle timeout makes: a command handler or the message's storage is pending. */
  #waitingForUs(): boolean {
    return this._handlerPending || Boolean(this._dataStream && this._parser && !this._parser._dataMode);
  }

  /** The connection stops counting against the limits as soon as it is being closed. */
  #release(): void {
    if (this.#sessionTimer) clearTimeout(this.#sessionTimer);
    this.#sessionTimer = null;
    if (this.#admittedAs === null) return;
    this.#policy.limits.releaseConnection(this.#admittedAs);
    this.#admittedAs = null;
  }

  override close(): void {
    this.#release();
    super.close();
  }

  override _onClose(): void {
    this.#release();
    super._onClose();
  }

  /** The same parser wiring as smtp-server's, with the faster DATA scanner (./data-stream.ts). */
  override _createParser(): SMTPStream {
    const parser = new FastDataSmtpStream({ maxCommandLength: this._server.options.maxCommandLength });
    parser.oncommand = (command, callback) => this._onCommand(command, callback);
    parser.on('error', (err: Error) => {
      if (err.message !== 'Command line too long') {
        this.send(421, `Error: ${err.message}`);
        return;
      }
      // A line past the parser's buffer: what follows cannot be told apart from the rest of
      // that line, so the connection ends after the reply.
      reply(this, smtpError('line_too_long', 'Line too long'));
      this.close();
    });
    return parser;
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    if (!this._upgrading && this._ready && command.length > this.#lineLimit(command)) {
      // An aborted SASL exchange: the next line is a command again.
      this._nextHandler = false;
      if (++this._unrecognizedCommands >= MAX_REFUSED_COMMANDS) {
        reply(this, smtpError('client_limit', 'Too many errors, closing connection'));
        return;
      }
      reply(this, smtpError('line_too_long', 'Line too long'));
      setImmediate(() => this._whenWritable(callback ?? (() => false)));
      return;
    }
    super._onCommand(command, callback);
  }

  #lineLimit(command: Buffer): number {
    if (this._nextHandler) return SASL_LINE_MAX;
    const verb = command.toString('latin1', 0, 5);
    if (AUTH_COMMAND.test(verb)) return SASL_LINE_MAX;
    return ADDRESS_COMMAND.test(verb) ? ADDRESS_COMMAND_LINE_MAX : COMMAND_LINE_MAX;
  }

  override handler_MAIL(command: Buffer, callback: () => void): void {
    if (!this.#refusedControlCharacters(command, callback)) super.handler_MAIL(command, callback);
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    if (!this.#refusedControlCharacters(command, callback)) super.handler_RCPT(command, callback);
  }

  /**
   * smtp-server refuses raw control characters in an address too, but with a generic syntax
   * reply; this makes every form of it the same 501 5.1.3 (the decoded forms are checked in the
   * MAIL and RCPT hooks).
   */
  #refusedControlCharacters(command: Buffer, callback: () => void): boolean {
    if (!hasControlCharacter(command.toString())) return false;
    reply(this, smtpError('bad_address', 'Address contains control characters'));
    callback();
    return true;
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (this.#sessionOver && code !== 421) {
      setImmediate(() => {
        if (this._closing || this._closed || this.#waitingForUs()) return;
        reply(this, smtpError('session_timeout', 'Session time limit reached, closing connection'));
      });
    }
    // Replies to pipelined commands come in one tick: cork so they leave in one write (one
    // syscall and one wake-up of the client instead of three).
    const socket = this._socket;
    if (socket && !socket.writableCorked && !socket.destroyed) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    if (context === 'DATA_OK' && typeof data === 'string') return super.send(code, `2.0.0 ${data}`, false);
    if (typeof data === 'string' && ENHANCED_CODE_PREFIX.test(data)) return super.send(code, data, false);
    super.send(code, data, context);
  }
}

class KotakSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    readonly policy: ConnectionPolicy,
  ) {
    super(options);
  }

  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: ConstructorParameters<typeof SMTPConnection>[2]): void {
    const connection = new KotakConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}

function envelopeOf(session: SMTPServerSession, smtpWarnings: readonly SmtpWarning[]): Envelope {
  const user = session.user;
  return {
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    clientAddress: session.remoteAddress,
    heloName: session.hostNameAppearsAs ?? '',
    user: typeof user === 'string' ? user : user ? String((user as { username?: unknown }).username ?? '') : null,
    tls: Boolean(session.secure),
    ...(smtpWarnings.length > 0 ? { smtpWarnings } : {}),
  };
}

/**
 * See IntakeBudget: bounds memory when many large messages arrive at once. 32 MB holds a 4 MB
 * store batch several times over; at 1 MB × 50 connections the peak RSS was 325 MB with it and
 * 363 MB with 64 MB, at the same throughput (bench/ingest.ts).
 */
const DEFAULT_INTAKE_BUDGET_BYTES = 32 * 1024 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
const NO_CLIENT_LIMITS: ClientLimitsConfig = { maxConnections: 0, maxConnectionsPerClient: 0, connectionRate: 0, messageRate: 0 };

export function createSmtpServer(config: SmtpConfig, deps: SmtpDeps): RunningSmtpServer {
  const { log } = deps;
  const budget = new IntakeBudget(config.intakeBudgetBytes ?? DEFAULT_INTAKE_BUDGET_BYTES);
  const limits = new ClientLimits(config.clientLimits ?? NO_CLIENT_LIMITS);
  const authOn = deps.auth.mode !== 'off';
  const disabledCommands = [...(authOn ? [] : ['AUTH']), ...(deps.tls ? [] : ['STARTTLS'])];

  const options: SMTPServerOptions = {
    name: config.hostname,
    // smtp-server greets with "220 <name> ESMTP <banner>".
    banner: 'Kotak ready',
    size: config.maxMessageSize,
    rejectOversized: true,
    disableReverseLookup: true,
    socketTimeout: config.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    disabledCommands,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !authOn,
    // A sandbox on loopback: AUTH over plaintext is fine unless the operator asked for TLS.
    allowInsecureAuth: !config.requireTls,
    logger: false,
    ...(deps.tls ? { key: deps.tls.key, cert: deps.tls.cert } : {}),

    onAuth(auth, session, callback) {
      const username = auth.username ?? '';
      if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') {
        callback(smtpError('auth_failed', 'Authentication mechanism not supported'));
        return;
      }
      if (deps.auth.mode === 'any') {
        callback(null, { user: username });
        return;
      }
      const password = auth.password ?? '';
      (deps.credentials ? deps.credentials.verify(username, password) : Promise.resolve(false)).then(
        (ok) => {
          if (ok) callback(null, { user: username });
          else {
            // The username is the client's claim; the password is never logged.
            log.info({ user: username, client: session.remoteAddress }, 'smtp authentication failed');
            callback(smtpError('auth_failed', 'Authentication credentials invalid'));
          }
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },

    onMailFrom(address, session, callback) {
      if (config.requireTls && !session.secure) {
        callback(smtpError('tls_required', 'Must issue a STARTTLS command first'));
        return;
      }
      // Decoding (IDNA) can put into an address what the command line did not carry.
      if (hasControlCharacter(address.address)) {
        callback(smtpError('bad_address', 'Address contains control characters'));
        return;
      }
      const admit = (): void => {
        const refusal = limits.admitMessage(session.remoteAddress);
        if (refusal) {
          log.info({ client: session.remoteAddress, limit: refusal.limit }, 'smtp mail refused');
          callback(smtpError('client_limit', refusal.text));
          return;
        }
        callback();
      };
      if (!deps.hasRoom) return admit();
      // Refused at MAIL, before the client sends the message, as Postfix does below queue_minfree.
      deps.hasRoom().then(
        (room) => {
          if (room) return admit();
          log.warn({ client: session.remoteAddress }, 'smtp mail refused: free disk space below --min-free-disk');
          callback(smtpError('insufficient_storage', 'Insufficient system storage'));
        },
        (err: unknown) => {
          // Not knowing the free space is no reason to refuse: storing will say if it fails.
          log.warn({ err }, 'could not read the free disk space');
          admit();
        },
      );
    },

    onRcptTo(address, session, callback) {
      if (hasControlCharacter(address.address)) {
        callback(smtpError('bad_address', 'Address contains control characters'));
        return;
      }
      if (session.envelope.rcptTo.length >= config.maxRecipients) {
        callback(smtpError('too_many_recipients', `Too many recipients (at most ${config.maxRecipients} per message)`));
        return;
      }
      callback();
    },

    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        budget.cancel(resume);
        budget.release(size);
      };
      const resume = (): void => void stream.resume();
      const lineEndings = new LineEndingWatch();
      stream.on('data', (chunk: Buffer) => {
        // Past the limit nothing more is kept: smtp-server drains the rest and answers 552 5.3.4.
        if (stream.sizeExceeded) return;
        lineEndings.feed(chunk);
        chunks.push(chunk);
        size += chunk.length;
        if (!budget.take(chunk.length)) {
          stream.pause();
          budget.whenRoom(size, resume);
        }
      });
      // The bytes stay counted until the message is stored (or refused). 'close' follows every
      // 'end', so it releases only for a transfer that never ended (the client went away).
      let ended = false;
      stream.on('close', () => {
        if (!ended) release();
      });
      stream.on('end', () => {
        ended = true;
        if (stream.sizeExceeded) {
          release();
          callback(smtpError('message_too_big', `Message exceeds the limit of ${config.maxMessageSize} bytes`));
          return;
        }
        const envelope = envelopeOf(session, lineEndings.warnings());
        deps.deliver(Buffer.concat(chunks, size), envelope).then(
          (id) => {
            release();
            callback(null, `Ok: queued as ${id}`);
          },
          (err: unknown) => {
            release();
            log.error({ err, from: envelope.mailFrom, rcpts: envelope.rcptTo.length, bytes: size }, 'storing a message failed');
            callback(smtpError('storage_failed', 'Message not stored, try again later'));
          },
        );
      });
    },
  };

  const server = new KotakSmtpServer(options, { limits, sessionTimeoutMs: config.sessionTimeoutMs ?? 0, log });
  // smtp-server re-emits its listener's errors here too. Until listen() has succeeded, a failure
  // to listen (port in use) belongs to listen()'s caller, who reports it in one line; logging it
  // here as well put a JSON stack trace before that line.
  let listening = false;
  server.on('error', (err: Error) => {
    if (listening) log.warn({ err }, 'smtp connection error');
  });

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.server.off('error', reject);
          listening = true;
          resolve((server.server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
