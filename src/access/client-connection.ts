/**
 * One mail-client connection (POP3, IMAP) below its protocol: the socket's handlers, commands read
 * ahead up to a bound then the socket paused, one command at a time in order, writes that wait
 * for room (a client that stops reading costs its own connection, never memory), the idle timeout,
 * an in-band TLS upgrade that drops what was pipelined before it, and a shutdown that lets the
 * command in progress finish. The protocol frames the bytes and answers the commands
 * (`ConnectionProtocol`); nothing thrown there leaves the connection.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { endWithGrace, upgradeToTls, whenWritable } from './client-socket.js';

/** What the connection does after a command: go on, end the conversation, or start TLS. */
export type AfterCommand = 'close' | 'start-tls' | undefined;

/** A protocol's side of a connection, for events of type `E` (its framer's output). */
export interface ConnectionProtocol<E> {
  /** Frames received bytes into events (lines, commands with their literals, over-long lines). */
  push(chunk: Buffer): readonly E[];
  /** Forgets bytes buffered so far (what came before STARTTLS). */
  clear(): void;
  /** Answers one event through `send`; says what comes next. */
  handle(event: E): Promise<AfterCommand>;
  /** The client was idle too long: the protocol's last words, sent before the connection ends. */
  idleTimeout(): Promise<void>;
  /** Kotak is shutting down while no command runs: the protocol's last words. */
  shuttingDown(): Promise<void>;
  tlsStarted(): void;
  /** The socket closed (whoever closed it). */
  closed(): void;
  /** For the log line when the socket closes (the protocol state). */
  describe(): Record<string, unknown>;
}

export interface ClientConnectionOptions {
  /** How logs name the protocol: `pop3`, `imap`. */
  readonly name: string;
  readonly log: Logger;
  readonly idleTimeoutMs: number;
  /** For STLS/STARTTLS; null when the connection cannot (or need not) upgrade. */
  readonly secureContext: tls.SecureContext | null;
  /** Events read ahead (pipelining) before the socket stops being read. */
  readonly maxQueued: number;
}

/** After the last reply or an error, how long the client has to close its side before the socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;
/** How long a shutdown lets a command in progress finish. */
const SHUTDOWN_GRACE_MS = 2_000;

export class ClientConnection<E> {
  #socket: net.Socket;
  #protocol!: ConnectionProtocol<E>;
  readonly #options: ClientConnectionOptions;
  readonly #queue: E[] = [];
  #busy = false;
  #ending = false;
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  /** Resolves once the conversation is over: Kotak ended it or the socket closed, whichever is first. */
  readonly ended: Promise<void>;
  #resolveEnded!: () => void;

  constructor(socket: net.Socket, options: ClientConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
  }

  /** Starts reading, the greeting sent first. The protocol is given here because it needs `send`. */
  start(protocol: ConnectionProtocol<E>, greeting: readonly (string | Buffer)[]): void {
    this.#protocol = protocol;
    this.#attach(this.#socket);
    void this.send(greeting);
  }

  /** Ends the conversation for a server shutdown: after the command in progress, if any. */
  async shutdown(): Promise<void> {
    if (!this.#busy) {
      void this.#protocol.shuttingDown().catch(() => undefined);
      this.#end();
    } else this.#ending = true;
    const timer = setTimeout(() => this.#socket.destroy(), SHUTDOWN_GRACE_MS);
    await this.closed;
    clearTimeout(timer);
  }

  /** Writes chunks in one go (corked), resolving once the socket's buffer has room again. */
  readonly send = (chunks: readonly (string | Buffer)[]): Promise<void> => {
    const socket = this.#socket;
    if (chunks.length === 0 || socket.destroyed) return Promise.resolve();
    let flushed = true;
    socket.cork();
    for (const chunk of chunks) flushed = socket.write(chunk);
    socket.uncork();
    return flushed ? Promise.resolve() : whenWritable(socket);
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#ending) return;
    this.#queue.push(...this.#protocol.push(chunk));
    if (this.#queue.length > this.#options.maxQueued) this.#socket.pause();
    void this.#drain();
  };

  readonly #onTimeout = (): void => {
    const { log, name } = this.#options;
    if (this.#busy) {
      // Nothing moved either way while a command ran: the client stopped reading a reply (the
      // socket's buffer is full). No reply can get through; let the connection go.
      log.debug(`${name} client stopped reading`);
      this.#socket.destroy();
      return;
    }
    log.debug(`${name} idle timeout`);
    void this.#protocol.idleTimeout().catch(() => undefined);
    this.#end();
  };

  readonly #onError = (error: Error): void => {
    // Resets and aborted handshakes are the client's business; the socket closes after this.
    this.#options.log.debug({ err: error }, `${this.#options.name} connection error`);
  };

  readonly #onClose = (): void => {
    this.#ending = true;
    this.#queue.length = 0;
    this.#protocol.closed();
    this.#options.log.debug(this.#protocol.describe(), `${this.#options.name} connection closed`);
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
    socket.setTimeout(this.#options.idleTimeoutMs);
  }

  #detach(socket: net.Socket): void {
    socket.off('data', this.#onData);
    socket.off('close', this.#onClose);
    socket.off('timeout', this.#onTimeout);
    socket.setTimeout(0);
    // The error handler stays: an error on the old layer must never be unhandled.
  }

  /** Runs queued events one at a time, in order, each answered before the next starts. */
  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#ending) {
        const then = await this.#protocol.handle(this.#queue.shift()!);
        if (this.#socket.destroyed) return;
        if (then === 'close') return this.#end();
        if (then === 'start-tls') return this.#startTls();
      }
      if (this.#ending) this.#end();
      else this.#socket.resume();
    } catch (error) {
      // Not expected (the protocol answers failures itself), but a connection must not leak an error.
      this.#options.log.error({ err: error }, `${this.#options.name} connection failed`);
      this.#socket.destroy();
    } finally {
      this.#busy = false;
    }
  }

  #end(): void {
    this.#ending = true;
    this.#queue.length = 0;
    this.#resolveEnded();
    endWithGrace(this.#socket, CLOSE_GRACE_MS);
  }

  /**
   * After the OK to STLS/STARTTLS the next bytes are the TLS handshake (RFC 2595 section 4, RFC
   * 3501 6.2.1). Anything the client pipelined before it in plaintext is dropped, never run as if
   * it came encrypted.
   */
  #startTls(): void {
    const plain = this.#socket;
    this.#queue.length = 0;
    this.#protocol.clear();
    this.#detach(plain);
    plain.pause();
    this.#socket = upgradeToTls(plain, this.#options.secureContext!, this.#options.idleTimeoutMs, {
      error: this.#onError,
      close: this.#onClose,
      secure: (secure) => {
        this.#protocol.tlsStarted();
        this.#read(secure);
        this.#options.log.debug({ protocol: secure.getProtocol() }, `${this.#options.name} tls started`);
      },
    });
  }
}
