/**
 * smtp-server's connection and server classes with Kotak's overrides. This is the one file that
 * reaches into smtp-server's private methods (`init`, `_setListeners`, `_createParser`,
 * `_onCommand`, `_onClose`, `connect`, ...); each override says why it exists. smtp-server is
 * pinned to an exact version in package.json, and test/unit/smtp-server-internals.test.ts fails
 * when an upgrade changes any of the internals relied on here: re-read them before moving the pin.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import type { SMTPServerSession } from 'smtp-server';
import { hasControlCharacter } from './address-check.js';
import { afterChaos, type ChaosConnection, type ChaosGate, type ChaosOutcome } from './chaos.js';
import type { ChaosFacts } from '../chaos/matcher.js';
import type { ClientLimits } from './client-limits.js';
import { FastDataSmtpStream } from './data-stream.js';
import { smtpError, type SmtpReplyError } from '../errors.js';
import type { SmtpMetrics } from '../metrics/types.js';
import { smtpRefusalReason } from './refusal-reason.js';

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
/** Under pressure, a line longer than this counts as one line per this many bytes (Postfix's line_length_limit). */
const RECORD_BYTES = 2048;
/** After this many refused commands (too long, unknown) the client is disconnected, as smtp-server does. */
const MAX_REFUSED_COMMANDS = 10;

/** What every connection of a server shares: admission, the session cap, the log. */
export interface ConnectionPolicy {
  readonly limits: ClientLimits;
  readonly sessionTimeoutMs: number;
  /** The timeouts while the server is under pressure (ClientLimits.underPressure). */
  readonly stress: StressTimeouts;
  readonly log: Logger;
  /** Chaos rules at the connection's own stages (connect, EHLO, DATA); absent: none. */
  readonly chaos?: ChaosGate | null;
  /** Counts every refusal as it is sent (src/metrics/); absent: nothing counted. */
  readonly metrics?: SmtpMetrics;
}

/** The connection behind a session, for the chaos of the hooks that see only the session (src/smtp/server.ts). */
const connectionsBySession = new WeakMap<SMTPServerSession, KotakConnection>();

export function chaosConnectionOf(session: SMTPServerSession): ChaosConnection | undefined {
  return connectionsBySession.get(session);
}

/** The AUTH user of a session: smtp-server keeps what onAuth returned as `user`. */
export function sessionUser(session: SMTPServerSession): string | null {
  const user = session.user;
  return typeof user === 'string' ? user : user ? String((user as { username?: unknown }).username ?? '') : null;
}

/** A tarpit below this rate sends a byte at a time; above it, a slice every TRICKLE_TICK_MS. */
const TRICKLE_TICK_MS = 50;

/**
 * Postfix's stress mode, for when the connection slots run out. Each line (a command, or a line of
 * the message) must arrive within `lineTimeoutMs` of the previous line or of our last reply, as
 * Postfix's smtpd_timeout becomes a per-record deadline under stress: trickling a byte at a time
 * no longer keeps a connection alive. And no session lasts longer than `sessionTimeoutMs`
 * (or --smtp-session-timeout, if shorter), counted from its start: existing connections too.
 */
export interface StressTimeouts {
  readonly lineTimeoutMs: number;
  readonly sessionTimeoutMs: number;
}

function reply(connection: SMTPConnection, err: SmtpReplyError): void {
  connection.send(err.responseCode, err.message);
}

/**
 * smtp-server's connection with Kotak's adjustments: admission by the client limits, an immediate
 * greeting, the session cap, shorter timeouts under pressure (StressTimeouts), command line
 * lengths, a faster DATA scanner, corked replies, and exact reply codes. smtp-server prefixes replies with enhanced
 * status codes from a fixed table, and two of its choices do not fit: it answers an accepted
 * DATA with 2.6.0 (RFC 3463: "other or undefined media error"); we say 2.0.0 as Postfix does.
 * And our errors carry their own precise code in the text ("4.5.3 Too many recipients"), which
 * must not get a second, generic one in front.
 */
export class KotakConnection extends SMTPConnection implements ChaosConnection {
  /** The client address this connection counts against, until it is released. */
  #admittedAs: string | null = null;
  #sessionTimer: NodeJS.Timeout | null = null;
  /** The session cap passed while the client was waiting for our reply: it ends after that reply. */
  #sessionOver = false;
  /** When the session started (performance.now()), for the session cap. */
  #startedAt = 0;
  /** Under pressure: the line deadline's timer, and when the client last sent a line or heard a reply. */
  #deadlineTimer: NodeJS.Timeout | null = null;
  #lastProgressAt = 0;
  #bytesSinceProgress = 0;
  /** Chaos: the replies trickle (slowReplies). */
  #slowed = false;

  get #server(): KotakSmtpServer {
    return this._server as KotakSmtpServer;
  }

  get #policy(): ConnectionPolicy {
    return this.#server.policy;
  }

  /**
   * smtp-server waits 100 ms before the greeting to catch spammers that talk too early. A sandbox
   * has no spammers but many test connections: greet at once, as Mailpit and Postfix do. The
   * connection limits are checked first; a refused client hears 421 4.7.0 instead of the greeting.
   */
  override init(): void {
    connectionsBySession.set(this.session as SMTPServerSession, this);
    this._setListeners(() => {
      const policy = this.#policy;
      const refusal = policy.limits.admitConnection(this.remoteAddress);
      if (refusal) {
        policy.log.info({ client: this.remoteAddress, limit: refusal.limit }, 'smtp connection refused');
        reply(this, smtpError('client_limit', refusal.text));
        return;
      }
      this.#admittedAs = this.remoteAddress;
      this.#startedAt = performance.now();
      this.#server.notePressure();
      this.retime();
      const chaos = policy.chaos?.at('connect', this, { client: this.remoteAddress, user: null });
      if (!chaos) return this.connectionReady();
      afterChaos(chaos, (outcome) => {
        if (outcome.kind === 'continue') return this.connectionReady();
        if (outcome.kind !== 'reply' || this._closing || this._closed) return;
        // A refusing greeting (554, or 421): no enhanced code, and the connection ends.
        this.send(outcome.error.responseCode, outcome.error.message, false);
        this.close();
      });
    });
  }

  /** Chaos: gone at once, without a reply (and without the client's QUIT). */
  drop(): void {
    this._socket.destroy();
  }

  /**
   * Chaos: a tarpit. Every reply from now on leaves at `bytesPerSecond`, and the connection's end
   * waits for what is still to trickle out. On the plaintext socket: after STARTTLS the TLS
   * socket writes beneath this (the tarpit then ends).
   */
  slowReplies(bytesPerSecond: number): void {
    // Once per connection: a second tarpit over the first would multiply the slowness.
    if (this.#slowed) return;
    this.#slowed = true;
    const socket = this._socket;
    const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
    const end = socket.end.bind(socket) as () => net.Socket;
    const slice = bytesPerSecond <= 1000 / TRICKLE_TICK_MS ? 1 : Math.floor((bytesPerSecond * TRICKLE_TICK_MS) / 1000);
    const tickMs = slice === 1 ? 1000 / bytesPerSecond : TRICKLE_TICK_MS;
    let pending = Buffer.alloc(0);
    let timer: NodeJS.Timeout | null = null;
    let ending = false;
    const tick = () => {
      timer = null;
      if (socket.destroyed) return;
      write(pending.subarray(0, slice));
      pending = pending.subarray(slice);
      if (pending.length > 0) timer = setTimeout(tick, tickMs);
      else if (ending) end();
    };
    socket.write = ((chunk: string | Uint8Array) => {
      pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      timer ??= setTimeout(tick, tickMs);
      return true;
    }) as typeof socket.write;
    socket.end = (() => {
      ending = true;
      if (pending.length === 0 && timer === null) end();
      return socket;
    }) as typeof socket.end;
    socket.once('close', () => {
      if (timer) clearTimeout(timer);
    });
  }

  /** What chaos knows at EHLO and DATA: the client, the AUTH user, the envelope so far. */
  #chaosFacts(gate: ChaosGate): ChaosFacts {
    const session = this.session as SMTPServerSession;
    const user = sessionUser(session);
    const { mailFrom, rcptTo } = session.envelope;
    return {
      client: this.remoteAddress,
      user,
      ...(mailFrom ? { from: mailFrom.address } : {}),
      ...(rcptTo.length > 0 ? { recipients: gate.recipients(rcptTo.map((r) => r.address), user) } : {}),
    };
  }

  /** Runs `proceed` unless a chaos rule at `stage` answers (the reply, then `callback`) or dropped the connection. */
  #withChaos(stage: 'ehlo' | 'data', callback: () => void, proceed: () => void): void {
    const gate = this.#policy.chaos;
    const chaos = gate ? gate.at(stage, this, this.#chaosFacts(gate)) : null;
    if (!chaos) return proceed();
    afterChaos(chaos, (outcome: ChaosOutcome) => {
      if (outcome.kind === 'continue') return proceed();
      if (outcome.kind === 'dropped' || this._closing || this._closed) return;
      reply(this, outcome.error);
      callback();
    });
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.#withChaos('ehlo', callback, () => super.handler_EHLO(command, callback));
  }

  override handler_HELO(command: Buffer, callback: () => void): void {
    this.#withChaos('ehlo', callback, () => super.handler_HELO(command, callback));
  }

  /** DATA start: before the 354 (a reply here is what the client gets instead). Without recipients smtp-server's 503 comes first. */
  override handler_DATA(command: Buffer, callback: () => void): void {
    if (this.session.envelope.rcptTo.length === 0) return super.handler_DATA(command, callback);
    this.#withChaos('data', callback, () => super.handler_DATA(command, callback));
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

  /**
   * Sets the session cap and the line deadline for the server's state: called at admission and
   * whenever pressure starts or ends (KotakSmtpServer.notePressure), for every open connection.
   */
  retime(): void {
    this.#armSessionTimer();
    this.#armLineDeadline();
  }

  /** The session cap in force: under pressure the stress cap, when it is shorter (0: none). */
  #sessionLimitMs(): number {
    const { sessionTimeoutMs, stress, limits } = this.#policy;
    if (!limits.underPressure) return sessionTimeoutMs;
    return sessionTimeoutMs > 0 ? Math.min(sessionTimeoutMs, stress.sessionTimeoutMs) : stress.sessionTimeoutMs;
  }

  #armSessionTimer(): void {
    if (this.#sessionTimer) clearTimeout(this.#sessionTimer);
    this.#sessionTimer = null;
    const limit = this.#sessionLimitMs();
    if (this.#admittedAs === null || limit <= 0 || this.#sessionOver) return;
    const remaining = Math.max(0, this.#startedAt + limit - performance.now());
    this.#sessionTimer = setTimeout(() => this.#sessionTimeUp(), remaining);
    this.#sessionTimer.unref();
  }

  /** Under pressure only: started afresh (the client gets the whole deadline from now), stopped when pressure ends. */
  #armLineDeadline(): void {
    const underPressure = this.#admittedAs !== null && this.#policy.limits.underPressure;
    if (!underPressure) {
      if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = null;
      return;
    }
    if (this.#deadlineTimer) return;
    this.#lastProgressAt = performance.now();
    this.#scheduleLineDeadline(this.#policy.stress.lineTimeoutMs);
  }

  #scheduleLineDeadline(inMs: number): void {
    this.#deadlineTimer = setTimeout(() => this.#lineDeadlineUp(), inMs);
    this.#deadlineTimer.unref();
  }

  /**
   * The timer runs lazily: lines and replies only note the time, and the timer, when it fires,
   * sleeps again for whatever is left. The deadline does not run while the client waits for us.
   */
  #lineDeadlineUp(): void {
    this.#deadlineTimer = null;
    if (this._closing || this._closed || this.#admittedAs === null || !this.#policy.limits.underPressure) return;
    const now = performance.now();
    if (this.#waitingForUs()) this.#lastProgressAt = now;
    const left = this.#lastProgressAt + this.#policy.stress.lineTimeoutMs - now;
    if (left > 0) {
      this.#scheduleLineDeadline(left);
      return;
    }
    this.#policy.log.info({ client: this.remoteAddress }, 'smtp client too slow while the server is under pressure');
    reply(this, smtpError('session_timeout', 'Too slow while the server is busy, closing connection'));
  }

  /**
   * A chunk from the client (only looked at while the deadline runs): a line end in it is
   * progress, and so is every RECORD_BYTES of a longer line, as Postfix reads a line longer than
   * its line_length_limit as several records (a message without line ends is not refused for it).
   */
  #sawInput(chunk: Buffer): void {
    if (this.#deadlineTimer === null) return;
    this.#bytesSinceProgress += chunk.length;
    if (this.#bytesSinceProgress < RECORD_BYTES && !chunk.includes(0x0a)) return;
    this.#bytesSinceProgress = 0;
    this.#lastProgressAt = performance.now();
  }

  /** The same test smtp-server's idle timeout makes: a command handler or the message's storage is pending. */
  #waitingForUs(): boolean {
    return this._handlerPending || Boolean(this._dataStream && this._parser && !this._parser._dataMode);
  }

  /** The connection stops counting against the limits as soon as it is being closed. */
  #release(): void {
    if (this.#sessionTimer) clearTimeout(this.#sessionTimer);
    this.#sessionTimer = null;
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = null;
    if (this.#admittedAs === null) return;
    this.#policy.limits.releaseConnection(this.#admittedAs);
    this.#admittedAs = null;
    this.#server.notePressure();
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
    parser.oninput = (chunk) => this.#sawInput(chunk);
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
    // Every refusal leaves here, Kotak's and smtp-server's own (SIZE at MAIL, auth required, shutdown).
    if (code >= 400) this.#policy.metrics?.refused(smtpRefusalReason(code, typeof data === 'string' ? data : ''), code);
    if (this.#sessionOver && code !== 421) {
      setImmediate(() => {
        if (this._closing || this._closed || this.#waitingForUs()) return;
        reply(this, smtpError('session_timeout', 'Session time limit reached, closing connection'));
      });
    }
    // A reply puts the client in turn: its line deadline (under pressure) counts from here.
    if (this.#deadlineTimer !== null) this.#lastProgressAt = performance.now();
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

export class KotakSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    readonly policy: ConnectionPolicy,
  ) {
    super(options);
  }

  /**
   * Implicit TLS: the handshake comes before the connection exists, so before admission and
   * outside the connection counts, and smtp-server gives it the whole idle timeout (5 min). A
   * client that opens connections and never completes a handshake would hold them that long, and
   * with `maxClients` of them pending, new clients are dropped. A handshake takes milliseconds:
   * it gets the stress line timeout (10 s, Postfix's smtpd_starttls_timeout under stress), always.
   * smtp-server's own handshake-timeout listener stays; only the timer is shortened.
   */
  override _upgrade(socket: net.Socket, callback: Parameters<SMTPServer['_upgrade']>[1]): void {
    super._upgrade(socket, callback);
    const handshaking = this._pendingSockets.get(socket);
    if (handshaking && handshaking !== socket) handshaking.setTimeout(Math.min(this.policy.stress.lineTimeoutMs, this.options.socketTimeout ?? Infinity));
  }

  /**
   * After a connection was admitted or released: when pressure starts or ends, say so once in the
   * log and re-time every open connection (shorter timeouts for existing sessions too).
   */
  notePressure(): void {
    const change = this.policy.limits.updatePressure();
    if (change === null) return;
    const { limits, stress, log } = this.policy;
    if (change === 'started') {
      log.warn({ connections: limits.openConnections, lineTimeoutMs: stress.lineTimeoutMs, sessionTimeoutMs: stress.sessionTimeoutMs }, 'smtp under pressure: shorter timeouts, last connection slots reserved');
    } else {
      log.info({ connections: limits.openConnections }, 'smtp pressure over: normal timeouts');
    }
    for (const connection of this.connections) {
      if (connection instanceof KotakConnection) connection.retime();
    }
  }

  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: ConstructorParameters<typeof SMTPConnection>[2]): void {
    const connection = new KotakConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}
