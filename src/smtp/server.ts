/**
 * The catching SMTP server: smtp-server with Kotak's hooks. It accepts any sender and recipient,
 * reads DATA into memory within the size limit, and answers 250 only after `deliver` has committed
 * the message, with its id in the reply.
 */
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession, type SMTPServerDataStream } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { FastDataSmtpStream } from './data-stream.js';
import { IntakeBudget } from './intake-budget.js';
import { smtpError } from '../errors.js';
import type { Envelope } from '../mail/types.js';
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
  /** Message bytes held in memory across all connections before reading pauses (default 64 MB). */
  readonly intakeBudgetBytes?: number;
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
}

export interface RunningSmtpServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

const ENHANCED_CODE_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * smtp-server's connection with Kotak's adjustments: an immediate greeting, a faster DATA
 * scanner, corked replies, and exact reply codes. smtp-server prefixes replies with enhanced
 * status codes from a fixed table, and two of its choices do not fit: it answers an accepted
 * DATA with 2.6.0 (RFC 3463: "other or undefined media error"); we say 2.0.0 as Postfix does.
 * And our errors carry their own precise code in the text ("4.5.3 Too many recipients"), which
 * must not get a second, generic one in front.
 */
class KotakConnection extends SMTPConnection {
  /**
   * smtp-server waits 100 ms before the greeting to catch spammers that talk too early. A sandbox
   * has no spammers but many test connections: greet at once, as Mailpit and Postfix do.
   */
  override init(): void {
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      this.connectionReady();
    });
  }

  /** The same parser wiring as smtp-server's, with the faster DATA scanner (./data-stream.ts). */
  override _createParser(): SMTPStream {
    const parser = new FastDataSmtpStream({ maxCommandLength: this._server.options.maxCommandLength });
    parser.oncommand = (command, callback) => this._onCommand(command, callback);
    parser.on('error', (err: Error) => this.send(421, `Error: ${err.message}`));
    return parser;
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
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
  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: ConstructorParameters<typeof SMTPConnection>[2]): void {
    const connection = new KotakConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}

function envelopeOf(session: SMTPServerSession): Envelope {
  const user = session.user;
  return {
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    clientAddress: session.remoteAddress,
    heloName: session.hostNameAppearsAs ?? '',
    user: typeof user === 'string' ? user : user ? String((user as { username?: unknown }).username ?? '') : null,
    tls: Boolean(session.secure),
  };
}

/** See IntakeBudget: bounds memory when many large messages arrive at once. */
const DEFAULT_INTAKE_BUDGET_BYTES = 64 * 1024 * 1024;

export function createSmtpServer(config: SmtpConfig, deps: SmtpDeps): RunningSmtpServer {
  const { log } = deps;
  const budget = new IntakeBudget(config.intakeBudgetBytes ?? DEFAULT_INTAKE_BUDGET_BYTES);
  const authOn = deps.auth.mode !== 'off';
  const disabledCommands = [...(authOn ? [] : ['AUTH']), ...(deps.tls ? [] : ['STARTTLS'])];

  const options: SMTPServerOptions = {
    name: config.hostname,
    banner: 'Kotak ESMTP ready',
    size: config.maxMessageSize,
    rejectOversized: true,
    disableReverseLookup: true,
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

    onMailFrom(_address, session, callback) {
      if (config.requireTls && !session.secure) {
        callback(smtpError('tls_required', 'Must issue a STARTTLS command first'));
        return;
      }
      callback();
    },

    onRcptTo(_address, session, callback) {
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
      stream.on('data', (chunk: Buffer) => {
        // Past the limit nothing more is kept: smtp-server drains the rest and answers 552 5.3.4.
        if (stream.sizeExceeded) return;
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
        const envelope = envelopeOf(session);
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

  const server = new KotakSmtpServer(options);
  server.on('error', (err: Error) => log.warn({ err }, 'smtp connection error'));

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.server.off('error', reject);
          resolve((server.server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
