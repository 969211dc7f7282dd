/**
 * Follows one outgoing SMTP session through nodemailer's transaction log (commands and replies;
 * message data never reaches it because `debug` stays off) and keeps three things:
 *
 * - the transcript for the delivery panel, with everything after `AUTH <mechanism>` redacted until
 *   the server's final answer to it, whatever nodemailer itself masks;
 * - each reply paired with the command it answers, which is how recipients get their statuses;
 * - what the client is waiting for right now, which picks the RFC 5321 4.5.3.2 timeout.
 *
 * Replies are paired by order: a server answers commands in the order they were sent, pipelined
 * or not (RFC 2920 section 3.1), and answers the message data once, after its terminating dot.
 */
import type { ExternalLogger } from 'nodemailer/lib/shared/index.js';

/** What the client waits for; each has its own timeout. */
export type Awaiting =
  | 'connection'
  | 'greeting'
  | 'reply'
  | 'data-reply'
  | 'message-data'
  | 'final-reply'
  | 'tls-handshake'
  | 'nothing';

export interface Exchange {
  /** The command as transcribed (credentials redacted), or GREETING / MESSAGE_DATA. */
  readonly command: string;
  /** The whole reply, lines joined with "\n", code included. */
  readonly reply: string;
  /** 0 when the reply did not start with a code. */
  readonly code: number;
}

export interface RecorderHooks {
  /** Something happened on the wire; `awaiting` is the new state. Used to re-arm the timeout. */
  onActivity(awaiting: Awaiting): void;
  /** TLS is up (after STARTTLS, or on connect for implicit TLS): the socket can be inspected now. */
  onSecured(): void;
}

export const GREETING = '<greeting>';
export const MESSAGE_DATA = '<message>';

/** A panel summary, not an archive: a hostile server could otherwise fill it with 1 MB replies. */
const MAX_TRANSCRIPT_LINES = 200;
const MAX_LINE_CHARS = 500;
const MAX_REPLY_CHARS = 2000;
const REDACTED = '***';

export class SmtpSessionRecorder {
  readonly #hooks: RecorderHooks;
  readonly #transcript: string[] = [];
  readonly #exchanges: Exchange[] = [];
  /** Commands sent and not answered yet, oldest first. */
  readonly #pending: string[] = [];
  #connected = false;
  #handshaking = false;
  #inMessageData = false;
  #inAuth = false;
  #messageSent = false;
  #truncated = false;

  constructor(hooks: RecorderHooks) {
    this.#hooks = hooks;
  }

  /** The logger to give SMTPConnection, with `transactionLog: true` and `debug` off. */
  readonly logger: ExternalLogger = {
    trace: (entry: unknown, message: unknown) => this.#observe(entry, message),
    debug: (entry: unknown, message: unknown) => this.#observe(entry, message),
    info: (entry: unknown, message: unknown) => this.#observe(entry, message),
    warn: (entry: unknown, message: unknown) => this.#observe(entry, message),
    error: (entry: unknown, message: unknown) => this.#observe(entry, message),
    fatal: (entry: unknown, message: unknown) => this.#observe(entry, message),
  };

  get transcript(): readonly string[] {
    return this.#transcript;
  }

  get exchanges(): readonly Exchange[] {
    return this.#exchanges;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Whether the message data (with its terminating dot) has been handed to the socket. */
  get messageSent(): boolean {
    return this.#messageSent;
  }

  /** True when every command sent so far has been answered. */
  get settled(): boolean {
    return this.#pending.length === 0;
  }

  get lastExchange(): Exchange | undefined {
    return this.#exchanges.at(-1);
  }

  get awaiting(): Awaiting {
    if (!this.#connected) return 'connection';
    const head = this.#pending[0];
    if (head === GREETING) return 'greeting';
    if (head === MESSAGE_DATA) return 'final-reply';
    if (head !== undefined) return /^DATA$/i.test(head) ? 'data-reply' : 'reply';
    if (this.#inMessageData) return 'message-data';
    if (this.#handshaking) return 'tls-handshake';
    return 'nothing';
  }

  /** For reasons such as "timed out waiting for the reply to RCPT TO". */
  waitingFor(): string {
    switch (this.awaiting) {
      case 'connection':
        return 'the connection';
      case 'greeting':
        return 'the greeting';
      case 'reply':
        return `the reply to ${commandVerb(this.#pending[0] ?? '')}`;
      case 'data-reply':
        return 'the reply to DATA';
      case 'message-data':
        return 'the server to take more message data';
      case 'final-reply':
        return 'the reply to the message data';
      case 'tls-handshake':
        return 'the TLS handshake';
      case 'nothing':
        return 'nothing';
    }
  }

  /** The extensions of the last successful EHLO (the one after STARTTLS when TLS is used). */
  extensions(): readonly string[] {
    const ehlo = this.#exchanges.findLast((e) => /^EHLO /i.test(e.command) && e.code === 250);
    if (!ehlo) return [];
    return ehlo.reply
      .split('\n')
      .slice(1)
      .map((line) => line.replace(/^\d{3}[ -]/, '').trim());
  }

  /** The SIZE the server declared (RFC 1870), or null when it declared none or no limit (0). */
  sizeLimit(): number | null {
    for (const extension of this.extensions()) {
      const match = /^SIZE\s+(\d+)/i.exec(extension);
      if (match) return Number(match[1]) || null;
    }
    return null;
  }

  /** A line of our own in the transcript, e.g. the TLS parameters. */
  note(text: string): void {
    this.#append(`-- ${text}`);
  }

  /** A chunk of message data left for the socket: the data block timeout starts again. */
  dataProgress(): void {
    if (this.#inMessageData) this.#hooks.onActivity('message-data');
  }

  #observe(entry: unknown, message: unknown): void {
    if (typeof entry !== 'object' || entry === null) return;
    const fields = entry as Record<string, unknown>;
    switch (fields.tnx) {
      case 'network':
        // The "established" entry is the only one carrying the peer address; "closed" has none.
        if (!this.#connected && typeof fields.remoteAddress === 'string') {
          this.#onConnected(fields.remoteAddress, fields.remotePort);
        }
        break;
      case 'client':
        if (typeof message === 'string') this.#onCommand(message);
        break;
      case 'server':
        if (typeof message === 'string') this.#onReply(message);
        break;
      case 'message':
        // The end-of-data entry has the byte counts; with `debug` on, data chunks would come as
        // 'message' entries too, without them, and are ignored.
        if (typeof fields.inByteCount === 'number') this.#onMessageSent(fields.inByteCount);
        break;
    }
  }

  #onConnected(address: string, port: unknown): void {
    this.#connected = true;
    this.note(`connected to ${address}:${String(port)}`);
    this.#pending.push(GREETING);
    this.#hooks.onSecured(); // implicit TLS: the handshake is already done; a no-op otherwise
    this.#hooks.onActivity(this.awaiting);
  }

  #onCommand(line: string): void {
    if (this.#handshaking) {
      // The first command after the STARTTLS reply goes out over TLS, so the handshake is over.
      this.#handshaking = false;
      this.#hooks.onSecured();
    }
    const shown = this.#redact(line);
    this.#append(`C: ${shown}`);
    this.#pending.push(shown);
    this.#hooks.onActivity(this.awaiting);
  }

  #onReply(text: string): void {
    // A reply that arrives before nodemailer logged the connection still proves one.
    this.#connected = true;
    const command = this.#pending.shift() ?? '';
    const code = Number(/^(\d{3})/.exec(text)?.[1] ?? 0);
    for (const line of text.split('\n')) this.#append(`S: ${line}`);
    this.#exchanges.push({ command, reply: text.slice(0, MAX_REPLY_CHARS), code });
    if (this.#inAuth && code !== 334) this.#inAuth = false;
    if (/^STARTTLS$/i.test(command) && code >= 200 && code < 300) this.#handshaking = true;
    if (/^DATA$/i.test(command) && code >= 300 && code < 400) this.#inMessageData = true;
    this.#hooks.onActivity(this.awaiting);
  }

  #onMessageSent(bytes: number): void {
    this.#inMessageData = false;
    this.#messageSent = true;
    this.#append(`C: <message, ${bytes} bytes>`);
    this.#pending.push(MESSAGE_DATA);
    this.#hooks.onActivity(this.awaiting);
  }

  #redact(line: string): string {
    if (this.#inAuth) return REDACTED;
    const auth = /^AUTH\s+(\S+)(\s+\S)?/i.exec(line);
    if (!auth) return line;
    this.#inAuth = true;
    return auth[2] ? `AUTH ${auth[1]} ${REDACTED}` : `AUTH ${auth[1]}`;
  }

  #append(line: string): void {
    if (this.#transcript.length >= MAX_TRANSCRIPT_LINES) {
      if (!this.#truncated) this.#transcript.push('-- transcript truncated');
      this.#truncated = true;
      return;
    }
    this.#transcript.push(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
  }
}

/** "MAIL FROM:<a@b>" → "MAIL FROM", "AUTH PLAIN ***" → "AUTH PLAIN", "***" → "AUTH". */
export function commandVerb(command: string): string {
  if (command === GREETING) return 'the greeting';
  if (command === MESSAGE_DATA) return 'the message data';
  if (command === REDACTED) return 'AUTH';
  const match = /^(MAIL FROM|RCPT TO|AUTH \S+|\S+)/i.exec(command);
  return match?.[1]?.toUpperCase() ?? command;
}
