/**
 * Receiving SMTP servers for relay tests: real smtp-server instances on a loopback address,
 * scripted per test (greet with 421, answer RCPT with 451/550, offer STARTTLS or not) and
 * recording every connection, recipient and message, so a test can prove who was contacted.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createSelfSignedCertificate } from '../../src/smtp/tls.js';

export interface ReceivedMessage {
  readonly from: string;
  readonly to: string[];
  readonly raw: Buffer;
  readonly tls: boolean;
}

export interface ReceiverBehaviour {
  /** Refuse every session with this greeting (e.g. 421). */
  readonly greeting421?: boolean;
  /** Refuse every session for good: 554 greeting (RFC 5321 3.1). */
  readonly greeting554?: boolean;
  /** The reply code for RCPT TO of this address; 250 when undefined. */
  readonly rcpt?: (address: string) => number | undefined;
  readonly starttls?: boolean;
  /** Hold the reply to the message data this long, so that sessions overlap. */
  readonly dataDelayMs?: number;
  /** false: EHLO does not offer SMTPUTF8. Read when the receiver starts. */
  readonly smtpUtf8?: boolean;
}

export interface SmtpReceiver {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** The most sessions that were open at the same time. */
  readonly maxOpenSessions: number;
  /** Every RCPT TO seen, accepted or not, as smtp-server reads it (it turns xn-- labels into Unicode). */
  readonly recipientsSeen: string[];
  /** Every command line as it came over the wire (MAIL FROM:<…> SMTPUTF8, RCPT TO:<…>). */
  readonly commands: string[];
  readonly messages: ReceivedMessage[];
  behaviour: ReceiverBehaviour;
  /** Resolves with the next message received (or the first already received after `skip`). */
  nextMessage(skip?: number): Promise<ReceivedMessage>;
  close(): Promise<void>;
}

export async function startReceiver(host: string, port: number, behaviour: ReceiverBehaviour = {}): Promise<SmtpReceiver> {
  const state = { connections: 0, open: 0, maxOpen: 0, behaviour };
  const recipientsSeen: string[] = [];
  const commands: string[] = [];
  const messages: ReceivedMessage[] = [];
  // smtp-server logs each command line it reads at debug level with tnx 'command'; nothing else is kept.
  const record = (entry: unknown, ...args: unknown[]): void => {
    if ((entry as { tnx?: string }).tnx === 'command') commands.push(String(args[1]));
  };
  const ignore = (): void => {};
  const logger = { trace: ignore, debug: record, info: ignore, warn: ignore, error: ignore, fatal: ignore };
  const waiters: (() => void)[] = [];
  const tls = behaviour.starttls ? await createSelfSignedCertificate('mx.test') : null;
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: behaviour.starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    logger: logger as unknown as SMTPServerOptions['logger'],
    hideSMTPUTF8: behaviour.smtpUtf8 === false,
    onConnect(_session, callback) {
      state.connections += 1;
      state.open += 1;
      state.maxOpen = Math.max(state.maxOpen, state.open);
      if (state.behaviour.greeting421) {
        const err = Object.assign(new Error('4.3.2 Service not available, try later'), { responseCode: 421 });
        return callback(err);
      }
      if (state.behaviour.greeting554) return callback(Object.assign(new Error('5.3.2 No SMTP service here'), { responseCode: 554 }));
      callback();
    },
    onClose() {
      state.open -= 1;
    },
    onRcptTo(address, _session, callback) {
      recipientsSeen.push(address.address);
      const code = state.behaviour.rcpt?.(address.address);
      if (code && code >= 400) return callback(Object.assign(new Error(code >= 500 ? '5.1.1 No such user here' : '4.2.1 Mailbox busy, try later'), { responseCode: code }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks), tls: Boolean(session.secure) });
        for (const wake of waiters.splice(0)) wake();
        const delay = state.behaviour.dataDelayMs;
        if (delay) setTimeout(() => callback(), delay);
        else callback();
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;
  return {
    host,
    port: bound,
    get connections() {
      return state.connections;
    },
    get maxOpenSessions() {
      return state.maxOpen;
    },
    recipientsSeen,
    commands,
    messages,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(value: ReceiverBehaviour) {
      state.behaviour = value;
    },
    async nextMessage(skip = messages.length) {
      while (messages.length <= skip) await new Promise<void>((resolve) => waiters.push(resolve));
      return messages[skip]!;
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
