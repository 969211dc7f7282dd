/**
 * The IMAP listener: sockets, TLS (STARTTLS upgrade or implicit TLS from the first byte), the
 * idle timeout, the connection cap, line and literal caps, and backpressure. The protocol itself
 * is src/imap/session.ts; the framing src/imap/wire/command-reader.ts. Mirrors src/pop3/server.ts.
 *
 * A client can only ever hurt its own connection: every socket has its error handler, commands
 * run one at a time per connection, responses wait for the socket to drain, and nothing thrown
 * in a session leaves it (SMTP intake in the same process must not notice a broken IMAP client).
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { CredentialCheck } from '../access/credentials.js';
import { createClientListener } from '../access/client-listener.js';
import { endWithGrace, upgradeToTls, whenWritable } from '../access/client-socket.js';
import type { FolderSource } from '../access/folder-types.js';
import type { EventBus } from '../events.js';
import type { TlsMaterial } from '../smtp/tls.js';
import type { ConnectionCounter } from '../metrics/connections.js';
import { createFolderEvents } from './folder-events.js';
import { DEFAULT_IMAP_LIMITS, ImapSession, type ImapSessionLimits, type Then } from './session.js';
import { CommandReader, type ReaderEvent } from './wire/command-reader.js';
import type { Chunk } from './wire/encode.js';

export interface ImapConfig {
  readonly host: string;
  readonly port: number;
  /** Close a connection after this long without a command, also in IDLE (RFC 3501 5.4: at least 30 minutes). */
  readonly idleTimeoutMs: number;
  /** TLS from the first byte (as on port 993) rather than STARTTLS; needs `tls`. */
  readonly implicitTls: boolean;
  /** Connections open at once; one more is told so and closed (0: no limit). */
  readonly maxConnections: number;
  /** APPEND's largest message (--max-message-size). */
  readonly maxMessageSize: number;
  /** The newest messages a selected folder opens with (--imap-folder-size). */
  readonly folderSize: number;
  readonly limits?: Partial<ImapSessionLimits>;
}

export interface ImapDeps {
  readonly credentials: CredentialCheck;
  readonly folders: FolderSource;
  /** Where message events are heard (every node's, with PostgreSQL). */
  readonly bus: EventBus;
  /** Present when TLS is on: STARTTLS is offered, or every connection is TLS with implicitTls. */
  readonly tls: TlsMaterial | null;
  readonly log: Logger;
  /** Counts open connections (src/metrics/); absent: nothing counted. */
  readonly connections?: ConnectionCounter;
}

export interface RunningImapServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** A command line's longest outside literals, CRLF included. */
export const MAX_LINE_OCTETS = 8192;
/** Every literal but APPEND's message: a login, a search string, a mailbox name. */
export const MAX_OTHER_LITERAL_OCTETS = 64 * 1024;
/** An over-long line is skipped up to this much; beyond, the client is flooding and is cut off. */
const MAX_SKIPPED_OCTETS = 64 * 1024;
/** Commands read ahead (pipelining) before the socket stops being read. */
const MAX_QUEUED_EVENTS = 64;
/** After LOGOUT or an error, how long the client has to close its side before the socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;
/** How long close() lets a command in progress finish. */
const SHUTDOWN_GRACE_MS = 2_000;
const APPEND_COMMAND = /^[^ ]+ APPEND /i;

interface ConnectionOptions {
  readonly log: Logger;
  readonly idleTimeoutMs: number;
  readonly maxMessageSize: number;
  /** For STARTTLS; null when the connection cannot (or need not) upgrade. */
  readonly secureContext: tls.SecureContext | null;
}

class ImapConnection {
  #socket: net.Socket;
  #session!: ImapSession;
  readonly #log: Logger;
  readonly #idleTimeoutMs: number;
  readonly #secureContext: tls.SecureContext | null;
  readonly #reader: CommandReader;
  readonly #queue: ReaderEvent[] = [];
  #busy = false;
  #ending = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  readonly ended: Promise<void>;
  #resolveEnded!: () => void;

  constructor(socket: net.Socket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#log = options.log;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#secureContext = options.secureContext;
    this.#reader = new CommandReader({
      maxLineOctets: MAX_LINE_OCTETS,
      maxSkipOctets: MAX_SKIPPED_OCTETS,
      maxLinesPerCommand: 64,
      literalCap: (firstLine) => (APPEND_COMMAND.test(firstLine.toString('latin1', 0, 80)) ? options.maxMessageSize : MAX_OTHER_LITERAL_OCTETS),
    });
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
  }

  start(session: ImapSession): void {
    this.#session = session;
    this.#attach(this.#socket);
    void this.send([session.greeting()]);
  }

  /** Ends the conversation for a server shutdown: after the command in progress, if any. */
  async shutdown(): Promise<void> {
    if (!this.#busy) {
      void this.send(['* BYE Kotak is shutting down\r\n']);
      this.#end();
    } else this.#ending = true;
    const timer = setTimeout(() => this.#socket.destroy(), SHUTDOWN_GRACE_MS);
    await this.closed;
    clearTimeout(timer);
  }

  /** Writes chunks in one go (corked), resolving once the socket's buffer has room again. */
  readonly send = (chunks: readonly Chunk[]): Promise<void> => {
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
    this.#queue.push(...this.#reader.push(chunk));
    if (this.#queue.length > MAX_QUEUED_EVENTS) this.#socket.pause();
    void this.#drain();
  };

  readonly #onTimeout = (): void => {
    if (this.#busy) {
      // Nothing moved either way while a command ran: the client stopped reading a response.
      this.#log.debug('imap client stopped reading');
      this.#socket.destroy();
      return;
    }
    this.#log.debug('imap idle timeout');
    void this.#session.idleTimeout();
    this.#end();
  };

  readonly #onError = (error: Error): void => {
    this.#log.debug({ err: error }, 'imap connection error');
  };

  readonly #onClose = (): void => {
    this.#ending = true;
    this.#queue.length = 0;
    this.#session.closed();
    this.#log.debug({ state: this.#session.state }, 'imap connection closed');
    this.#resolveEnded();
    this.#resolveClosed();
  };

  #attach(socket: net.Socket): void {
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#read(socket);
  }

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
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#ending) {
        const event = this.#queue.shift()!;
        const then = await this.#dispatch(event);
        if (this.#socket.destroyed) return;
        if (then === 'close') return this.#end();
        if (then === 'start-tls') return this.#startTls();
      }
      if (this.#ending) this.#end();
      else this.#socket.resume();
    } catch (error) {
      this.#log.error({ err: error }, 'imap connection failed');
      this.#socket.destroy();
    } finally {
      this.#busy = false;
    }
  }

  async #dispatch(event: ReaderEvent): Promise<Then> {
    switch (event.kind) {
      case 'command':
        return this.#session.handle(event.bytes);
      case 'continue':
        // In order with the responses before it, never inside one of them.
        await this.send(['+ ready for the literal\r\n']);
        return undefined;
      case 'too-long':
        return this.#session.lineTooLong(event.head);
      case 'literal-refused':
        return this.#session.literalRefused(event.head, event.size, event.cap);
      case 'flood':
        await this.send(['* BYE line or literal over the limit, closing connection\r\n']);
        return 'close';
    }
  }

  #end(): void {
    this.#ending = true;
    this.#queue.length = 0;
    this.#resolveEnded();
    endWithGrace(this.#socket, CLOSE_GRACE_MS);
  }

  /**
   * RFC 3501 6.2.1: after the OK to STARTTLS the next bytes are the TLS handshake. Anything the
   * client pipelined after STARTTLS in plaintext is dropped, never run as if it came encrypted.
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
        this.#log.debug({ protocol: secure.getProtocol() }, 'imap tls started');
      },
    });
  }
}

export function createImapServer(config: ImapConfig, deps: ImapDeps): RunningImapServer {
  const limits: ImapSessionLimits = { ...DEFAULT_IMAP_LIMITS, ...config.limits };
  const events = createFolderEvents(deps.bus);
  const listener = createClientListener(
    { protocol: 'imap', host: config.host, port: config.port, implicitTls: config.implicitTls, maxConnections: config.maxConnections, idleTimeoutMs: config.idleTimeoutMs, refusal: '* BYE [UNAVAILABLE] too many connections, try again later\r\n' },
    { tls: deps.tls, log: deps.log, ...(deps.connections ? { connections: deps.connections } : {}) },
    (socket, secure, log) => {
      const secureContext = listener.secureContext;
      const connection = new ImapConnection(socket, { log, idleTimeoutMs: config.idleTimeoutMs, maxMessageSize: config.maxMessageSize, secureContext: secure ? null : secureContext });
      const session = new ImapSession({
        credentials: deps.credentials,
        folders: deps.folders,
        events,
        log,
        limits,
        tlsAvailable: secureContext !== null && !secure,
        client: { address: socket.remoteAddress ?? '', tls: secure },
        maxMessageSize: config.maxMessageSize,
        folderSize: config.folderSize,
        send: connection.send,
      });
      connection.start(session);
      return connection;
    },
  );
  return {
    listen: () => listener.listen(),
    async close() {
      await listener.close();
      events.close();
    },
  };
}
