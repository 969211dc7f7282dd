/**
 * The POP3 listener: sockets, TLS (STLS upgrade or implicit TLS from the first byte), the idle
 * timeout, line limits and backpressure. The protocol itself is src/pop3/session.ts.
 *
 * A client can only ever hurt its own connection: every socket has its error handler, commands
 * run one at a time per connection, and nothing thrown in a handler leaves it (SMTP intake in the
 * same process must not notice a broken POP3 client).
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { createClientListener } from '../access/client-listener.js';
import { endWithGrace, upgradeToTls, whenWritable } from '../access/client-socket.js';
import type { CredentialCheck } from '../access/credentials.js';
import type { MaildropSource } from '../access/maildrop.js';
import type { TlsMaterial } from '../smtp/tls.js';
import type { ConnectionCounter } from '../metrics/connections.js';
import { LineReader, type LineEvent } from './line-reader.js';
import { err, type ReplyChunk } from './replies.js';
import { DEFAULT_SESSION_LIMITS, MAX_SASL_OCTETS, Pop3Session, type SessionLimits } from './session.js';

export interface Pop3Config {
  readonly host: string;
  readonly port: number;
  /** Close a connection after this long without a command (RFC 1939 section 3: at least 10 minutes). */
  readonly idleTimeoutMs: number;
  /** TLS from the first byte (as on port 995) rather than STLS; needs `tls`. */
  readonly implicitTls: boolean;
  /** Connections open at once; one more is told so and closed (0: no limit). */
  readonly maxConnections: number;
  readonly limits?: Partial<SessionLimits>;
}

export interface Pop3Deps {
  readonly credentials: CredentialCheck;
  readonly maildrops: MaildropSource;
  /** Present when TLS is on: STLS is offered, or every connection is TLS with implicitTls. */
  readonly tls: TlsMaterial | null;
  readonly log: Logger;
  /** Counts open connections (src/metrics/); absent: nothing counted. */
  readonly connections?: ConnectionCounter;
}

export interface RunningPop3Server {
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** An over-long line is skipped up to this much; beyond, the client is flooding and is cut off. */
const MAX_SKIPPED_OCTETS = 64 * 1024;
/** Lines read ahead (pipelining) before the socket stops being read. */
const MAX_QUEUED_LINES = 64;
/** After QUIT or an error, how long the client has to close its side before the socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;
/** How long close() lets a command in progress finish. */
const SHUTDOWN_GRACE_MS = 2_000;

interface ConnectionOptions {
  readonly session: Pop3Session;
  readonly log: Logger;
  readonly idleTimeoutMs: number;
  /** For STLS; null when the connection cannot (or need not) upgrade. */
  readonly secureContext: tls.SecureContext | null;
}

class Pop3Connection {
  #socket: net.Socket;
  readonly #session: Pop3Session;
  readonly #log: Logger;
  readonly #idleTimeoutMs: number;
  readonly #secureContext: tls.SecureContext | null;
  readonly #reader = new LineReader(MAX_SASL_OCTETS, MAX_SKIPPED_OCTETS);
  readonly #queue: LineEvent[] = [];
  #busy = false;
  #ending = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  /** Resolves once the conversation is over: Kotak ended it or the socket closed, whichever is first. */
  readonly ended: Promise<void>;
  #resolveEnded!: () => void;

  constructor(socket: net.Socket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#session = options.session;
    this.#log = options.log;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#secureContext = options.secureContext;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
  }

  start(): void {
    this.#attach(this.#socket);
    this.#send([this.#session.greeting()]);
  }

  /** Ends the conversation for a server shutdown: after the command in progress, if any. */
  async shutdown(): Promise<void> {
    if (!this.#busy) this.#end();
    else this.#ending = true;
    const timer = setTimeout(() => this.#socket.destroy(), SHUTDOWN_GRACE_MS);
    await this.closed;
    clearTimeout(timer);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#ending) return;
    this.#queue.push(...this.#reader.push(chunk));
    if (this.#queue.length > MAX_QUEUED_LINES) this.#socket.pause();
    void this.#drain();
  };

  readonly #onTimeout = (): void => {
    if (this.#busy) {
      // Nothing moved either way while a command was running: the client stopped reading a reply
      // (the socket's buffer is full). No reply can get through; let the connection go.
      this.#log.debug('pop3 client stopped reading');
      this.#socket.destroy();
      return;
    }
    this.#log.debug('pop3 idle timeout');
    this.#send([err('idle timeout, closing connection')]);
    this.#end();
  };

  readonly #onError = (error: Error): void => {
    // Resets and aborted handshakes are the client's business; the socket closes after this.
    this.#log.debug({ err: error }, 'pop3 connection error');
  };

  readonly #onClose = (): void => {
    this.#ending = true;
    this.#queue.length = 0;
    this.#log.debug({ state: this.#session.state }, 'pop3 connection closed');
    this.#resolveEnded();
    this.#resolveClosed();
  };

  #attach(socket: net.Socket): void {
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#read(socket);
  }

  /** Commands are read from this socket, under the idle timeout. */
  #read(socket: net.Socket): void {
    socket.on('data', this.#onData);
    socket.on('timeout', this.#onTimeout);
    socket.setTimeout(this.#idleTimeoutMs);
  }

  #detach(socket: net.Socket): void {
    socket.off('data', this.#onData);
    socket.off('close', this.#onClose);
    socket.off('timeout', this.#onTimeout);
    socket.setTimeout(0);
    // The error handler stays: an error on the old layer must never be unhandled.
  }

  /** Runs queued commands one at a time, in order, each reply sent before the next command starts. */
  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#ending) {
        const event = this.#queue.shift()!;
        const outcome =
          event.kind === 'line'
            ? await this.#session.handle(event.line)
            : event.kind === 'too-long'
              ? this.#session.lineTooLong()
              : { reply: [err('line too long, closing connection')], then: 'close' as const };
        if (this.#socket.destroyed) return;
        const flushed = this.#send(outcome.reply);
        if (outcome.then === 'close') return this.#end();
        if (outcome.then === 'start-tls') return this.#startTls();
        if (!flushed) await whenWritable(this.#socket);
      }
      if (this.#ending) this.#end();
      else this.#socket.resume();
    } catch (error) {
      // Not expected (the session answers failures itself), but a connection must not leak an error.
      this.#log.error({ err: error }, 'pop3 connection failed');
      this.#socket.destroy();
    } finally {
      this.#busy = false;
    }
  }

  /** Writes one reply in one go (corked); false when the socket's buffer is full. */
  #send(reply: readonly ReplyChunk[]): boolean {
    if (reply.length === 0 || this.#socket.destroyed) return true;
    let flushed = true;
    this.#socket.cork();
    for (const chunk of reply) flushed = this.#socket.write(chunk);
    this.#socket.uncork();
    return flushed;
  }

  #end(): void {
    this.#ending = true;
    this.#queue.length = 0;
    this.#resolveEnded();
    endWithGrace(this.#socket, CLOSE_GRACE_MS);
  }

  /**
   * RFC 2595 section 4: after "+OK" to STLS, the next bytes are the TLS handshake. Anything the
   * client pipelined after STLS in plaintext is dropped, never run as if it came encrypted.
   */
  #startTls(): void {
    const plain = this.#socket;
    this.#queue.length = 0;
    this.#reader.clear();
    this.#detach(plain);
    plain.pause();
    this.#socket = upgradeToTls(plain, this.#secureContext!, this.#idleTimeoutMs, {
      error: this.#onError,
      close: this.#onClose,
      secure: (secure) => {
        this.#session.tlsStarted();
        this.#read(secure);
        this.#log.debug({ protocol: secure.getProtocol() }, 'pop3 tls started');
      },
    });
  }
}

export function createPop3Server(config: Pop3Config, deps: Pop3Deps): RunningPop3Server {
  const limits: SessionLimits = { ...DEFAULT_SESSION_LIMITS, ...config.limits };
  const listener = createClientListener(
    // RFC 2449's SYS/TEMP: the client may try again later; SMTP's limit answers 421 the same way.
    { protocol: 'pop3', host: config.host, port: config.port, implicitTls: config.implicitTls, maxConnections: config.maxConnections, idleTimeoutMs: config.idleTimeoutMs, refusal: '-ERR [SYS/TEMP] too many connections, try again later\r\n' },
    { tls: deps.tls, log: deps.log, ...(deps.connections ? { connections: deps.connections } : {}) },
    (socket, secure, log) => {
      const secureContext = listener.secureContext;
      const session = new Pop3Session({
        credentials: deps.credentials,
        maildrops: deps.maildrops,
        log,
        limits,
        tlsAvailable: secureContext !== null && !secure,
      });
      const connection = new Pop3Connection(socket, { session, log, idleTimeoutMs: config.idleTimeoutMs, secureContext: secure ? null : secureContext });
      connection.start();
      return connection;
    },
  );
  return { listen: () => listener.listen(), close: () => listener.close() };
}
