/**
 * The POP3 server: POP3's side of a client connection (line framing, the session's replies, last
 * words) on the listener and connection IMAP shares (src/access/client-listener.ts,
 * client-connection.ts: TLS, the idle timeout, the connection cap, backpressure). The protocol
 * itself is src/pop3/session.ts.
 *
 * A client can only ever hurt its own connection: every socket has its error handler, commands
 * run one at a time per connection, and nothing thrown in a handler leaves it (SMTP intake in the
 * same process must not notice a broken POP3 client).
 */
import type { Logger } from 'pino';
import { ClientConnection, type ConnectionProtocol } from '../access/client-connection.js';
import { createClientListener } from '../access/client-listener.js';
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

/** POP3's side of a client connection (access/client-connection.ts): lines in, the session's replies out. */
function pop3Protocol(session: Pop3Session, send: (reply: readonly ReplyChunk[]) => Promise<void>): ConnectionProtocol<LineEvent> {
  const reader = new LineReader(MAX_SASL_OCTETS, MAX_SKIPPED_OCTETS);
  return {
    push: (chunk) => reader.push(chunk),
    clear: () => reader.clear(),
    async handle(event) {
      const outcome =
        event.kind === 'line'
          ? await session.handle(event.line)
          : event.kind === 'too-long'
            ? session.lineTooLong()
            : { reply: [err('line too long, closing connection')], then: 'close' as const };
      const written = send(outcome.reply);
      // The last reply goes out with the end (or before the handshake); the rest waits for room.
      if (outcome.then) return outcome.then;
      await written;
      return undefined;
    },
    idleTimeout: () => send([err('idle timeout, closing connection')]),
    shuttingDown: async () => undefined,
    tlsStarted: () => session.tlsStarted(),
    closed: () => undefined,
    describe: () => ({ state: session.state }),
  };
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
      const connection = new ClientConnection<LineEvent>(socket, { name: 'pop3', log, idleTimeoutMs: config.idleTimeoutMs, secureContext: secure ? null : secureContext, maxQueued: MAX_QUEUED_LINES });
      connection.start(pop3Protocol(session, connection.send), [session.greeting()]);
      return connection;
    },
  );
  return { listen: () => listener.listen(), close: () => listener.close() };
}
