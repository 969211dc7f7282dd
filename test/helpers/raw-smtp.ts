/**
 * A raw SMTP client for hostile-client tests: it can connect from another loopback address (so
 * per-client limits can be told apart from the well-behaved client on 127.0.0.1), write any bytes,
 * switch to TLS on the same socket, and tell when the server has closed the connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Reply } from './smtp-client.js';

export class RawSmtp {
  #socket: net.Socket;
  #buffer = '';
  #pendingLines: string[] = [];
  readonly #replies: Reply[] = [];
  #waiting: { resolve: (reply: Reply) => void; reject: (err: Error) => void }[] = [];
  #closed = false;
  /** Resolves when the connection is gone (the server closed it, or we did). */
  readonly closed: Promise<void>;
  #onClose!: () => void;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => (this.#onClose = resolve));
    this.#listen(socket);
  }

  static connect(port: number, options: { localAddress?: string } = {}): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress ?? '127.0.0.1' }, () => resolve(new RawSmtp(socket)));
      socket.once('error', reject);
    });
  }

  #listen(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    const onEnd = (): void => {
      if (this.#closed) return;
      this.#closed = true;
      for (const w of this.#waiting.splice(0)) w.reject(new Error('connection closed'));
      this.#onClose();
    };
    socket.on('close', onEnd);
    socket.on('error', onEnd);
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf('\r\n'); end >= 0; end = this.#buffer.indexOf('\r\n')) {
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      this.#pendingLines.push(line);
      if (line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), lines: this.#pendingLines, text: this.#pendingLines.join('\n') };
      this.#pendingLines = [];
      const waiter = this.#waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.#replies.push(reply);
    }
  }

  /** The next complete reply; rejects when the connection closes first. */
  read(): Promise<Reply> {
    const ready = this.#replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Replies received and not read yet, and bytes of an incomplete one. */
  get unread(): { replies: number; bytes: number } {
    return { replies: this.#replies.length, bytes: this.#buffer.length };
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  write(data: string | Buffer): void {
    if (!this.#socket.destroyed) this.#socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Greeting, then EHLO; returns the EHLO reply. */
  async hello(name = 'hostile.test'): Promise<Reply> {
    const greeting = await this.read();
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.text}`);
    return this.command(`EHLO ${name}`);
  }

  /** MAIL, RCPT, DATA and the payload (as given: the caller ends it); returns the final reply. */
  async transaction(payload: string | Buffer, from = 'sender@example.com', to = 'rcpt@example.com'): Promise<Reply> {
    for (const [line, code] of [[`MAIL FROM:<${from}>`, 250], [`RCPT TO:<${to}>`, 250], ['DATA', 354]] as const) {
      const reply = await this.command(line);
      if (reply.code !== code) return reply;
    }
    this.write(payload);
    return this.read();
  }

  /** Continues the conversation over TLS on the same socket (after a 220 to STARTTLS). */
  startTls(): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    return new Promise((resolve, reject) => {
      const secure = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve());
      secure.once('error', reject);
      this.#socket = secure;
      this.#listen(secure);
    });
  }

  async quit(): Promise<void> {
    await this.command('QUIT');
    await this.closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
