/**
 * The IMAP server: IMAP's side of a client connection (framing with the line and literal caps,
 * continuations, last words) on the listener and connection POP3 shares (src/access/client-listener.ts,
 * client-connection.ts: TLS, the idle timeout, the connection cap, backpressure). The protocol
 * itself is src/imap/session.ts; the framing src/imap/wire/command-reader.ts.
 *
 * A client can only ever hurt its own connection: every socket has its error handler, commands
 * run one at a time per connection, responses wait for the socket to drain, and nothing thrown
 * in a session leaves it (SMTP intake in the same process must not notice a broken IMAP client).
 */
import type { Logger } from 'pino';
import { ClientConnection, type ConnectionProtocol } from '../access/client-connection.js';
import type { CredentialCheck } from '../access/credentials.js';
import { createClientListener } from '../access/client-listener.js';
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
const APPEND_COMMAND = /^[^ ]+ APPEND /i;

/** IMAP's side of a client connection (access/client-connection.ts): commands with their literals in, the session's responses out. */
function imapProtocol(session: ImapSession, send: (chunks: readonly Chunk[]) => Promise<void>, maxMessageSize: number): ConnectionProtocol<ReaderEvent> {
  const reader = new CommandReader({
    maxLineOctets: MAX_LINE_OCTETS,
    maxSkipOctets: MAX_SKIPPED_OCTETS,
    maxLinesPerCommand: 64,
    literalCap: (firstLine) => (APPEND_COMMAND.test(firstLine.toString('latin1', 0, 80)) ? maxMessageSize : MAX_OTHER_LITERAL_OCTETS),
  });
  return {
    push: (chunk) => reader.push(chunk),
    clear: () => reader.clear(),
    async handle(event): Promise<Then> {
      switch (event.kind) {
        case 'command':
          return session.handle(event.bytes);
        case 'continue':
          // In order with the responses before it, never inside one of them.
          await send(['+ ready for the literal\r\n']);
          return undefined;
        case 'too-long':
          return session.lineTooLong(event.head);
        case 'literal-refused':
          return session.literalRefused(event.head, event.size, event.cap);
        case 'flood':
          await send(['* BYE line or literal over the limit, closing connection\r\n']);
          return 'close';
      }
    },
    idleTimeout: () => session.idleTimeout(),
    shuttingDown: () => send(['* BYE Kotak is shutting down\r\n']),
    tlsStarted: () => session.tlsStarted(),
    closed: () => session.closed(),
    describe: () => ({ state: session.state }),
  };
}

export function createImapServer(config: ImapConfig, deps: ImapDeps): RunningImapServer {
  const limits: ImapSessionLimits = { ...DEFAULT_IMAP_LIMITS, ...config.limits };
  const events = createFolderEvents(deps.bus);
  const listener = createClientListener(
    { protocol: 'imap', host: config.host, port: config.port, implicitTls: config.implicitTls, maxConnections: config.maxConnections, idleTimeoutMs: config.idleTimeoutMs, refusal: '* BYE [UNAVAILABLE] too many connections, try again later\r\n' },
    { tls: deps.tls, log: deps.log, ...(deps.connections ? { connections: deps.connections } : {}) },
    (socket, secure, log) => {
      const secureContext = listener.secureContext;
      const connection = new ClientConnection<ReaderEvent>(socket, { name: 'imap', log, idleTimeoutMs: config.idleTimeoutMs, secureContext: secure ? null : secureContext, maxQueued: MAX_QUEUED_EVENTS });
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
      connection.start(imapProtocol(session, connection.send, config.maxMessageSize), [session.greeting()]);
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
