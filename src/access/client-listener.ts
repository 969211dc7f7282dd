/**
 * The listener a mail-client protocol (POP3, IMAP) stands on: plain or implicit-TLS sockets, the
 * connection cap (one more is told so in the protocol's words and closed), a log child per
 * connection, and a shutdown that lets each conversation end. The protocol gives what a
 * connection is (`open`); this module only counts, starts and stops them.
 */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { countSocket, type ConnectionCounter } from '../metrics/connections.js';
import type { TlsMaterial } from '../smtp/tls.js';

export interface ClientListenerConfig {
  /** How logs name it: `pop3`, `imap`. */
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte; needs TLS material. */
  readonly implicitTls: boolean;
  /** Connections in conversation at once (0: no limit). */
  readonly maxConnections: number;
  /** Bounds the implicit-TLS handshake too (at most 30 s). */
  readonly idleTimeoutMs: number;
  /** The line a connection past the cap gets before it is closed. */
  readonly refusal: string;
}

/** One connection as the listener sees it. */
export interface ClientConnection {
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;
  /** Resolves once the conversation is over (Kotak ended it, or the socket closed): it stops counting against the cap. */
  readonly ended: Promise<void>;
  /** Ends the conversation for a server shutdown. */
  shutdown(): Promise<void>;
}

export interface ClientListener {
  /** For STARTTLS/STLS on plain connections; null without TLS material. */
  readonly secureContext: tls.SecureContext | null;
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** After a refusal, how long the client has to close its side before the socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;

export function createClientListener(
  config: ClientListenerConfig,
  /** `connections`: counts every socket while it is open, refused ones too (src/metrics/); absent: none. */
  deps: { readonly tls: TlsMaterial | null; readonly log: Logger; readonly connections?: ConnectionCounter },
  open: (socket: net.Socket, secure: boolean, log: Logger) => ClientConnection,
): ClientListener {
  const { log } = deps;
  const name = config.protocol;
  const secureContext = deps.tls ? tls.createSecureContext({ cert: deps.tls.cert, key: deps.tls.key }) : null;
  if (config.implicitTls && !deps.tls) throw new Error(`${name}: implicit TLS needs TLS material`);
  const connections = new Set<ClientConnection>();
  /** Those counted against the cap: a connection stops counting once Kotak has ended it, not when the client gets round to closing. */
  const conversing = new Set<ClientConnection>();
  let nextConnection = 1;

  const accept = (socket: net.Socket, secure: boolean): void => {
    countSocket(deps.connections, socket);
    if (config.maxConnections > 0 && conversing.size >= config.maxConnections) {
      log.warn({ client: socket.remoteAddress, open: conversing.size }, `${name} connection refused: too many connections`);
      socket.on('error', () => undefined);
      socket.end(config.refusal);
      socket.setTimeout(CLOSE_GRACE_MS, () => socket.destroy());
      return;
    }
    try {
      const connectionLog = log.child({ conn: nextConnection++, client: socket.remoteAddress });
      const connection = open(socket, secure, connectionLog);
      connections.add(connection);
      conversing.add(connection);
      void connection.closed.then(() => connections.delete(connection));
      void connection.ended.then(() => conversing.delete(connection));
      connectionLog.debug({ tls: secure }, `${name} connection`);
    } catch (error) {
      log.error({ err: error }, `${name} could not start a session`);
      socket.destroy();
    }
  };

  const server = config.implicitTls
    ? tls.createServer({ cert: deps.tls!.cert, key: deps.tls!.key, handshakeTimeout: Math.min(config.idleTimeoutMs, 30_000) }, (socket) => accept(socket, true))
    : net.createServer((socket) => accept(socket, false));
  // A failed TLS handshake concerns that client only.
  server.on('tlsClientError', (error: Error) => log.debug({ err: error }, `${name} tls handshake failed`));

  return {
    secureContext,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          server.on('error', (error) => log.error({ err: error }, `${name} listener error`));
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...connections].map((connection) => connection.shutdown()));
      await closing;
    },
  };
}
