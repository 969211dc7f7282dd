/**
 * A minimal SMTP client for tests that need to speak the protocol byte by byte (pipelining,
 * exact raw bytes, odd commands), which nodemailer deliberately hides.
 */
import net from 'node:net';

export interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
  readonly text: string;
}

export class SmtpTestClient {
  private buffer = '';
  private pendingLines: string[] = [];
  private readonly replies: Reply[] = [];
  private readonly waiting: { resolve: (reply: Reply) => void; reject: (err: Error) => void }[] = [];
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    const onEnd = (): void => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed'));
    };
    socket.on('close', onEnd);
    socket.on('error', onEnd);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<SmtpTestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new SmtpTestClient(socket)));
      socket.once('error', reject);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\r\n'); end >= 0; end = this.buffer.indexOf('\r\n')) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.pendingLines.push(line);
      if (line[3] === '-') continue; // a multi-line reply goes on
      const reply = { code: Number(line.slice(0, 3)), lines: this.pendingLines, text: this.pendingLines.join('\n') };
      this.pendingLines = [];
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.replies.push(reply);
    }
  }

  /** The next complete reply. */
  read(): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Greeting + EHLO; returns the EHLO reply. */
  async hello(name = 'test.local'): Promise<Reply> {
    await this.read();
    return this.command(`EHLO ${name}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The bytes a message is stored as: what DATA carries, before stuffing, ending in CRLF. */
export function wireForm(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  if (text.endsWith('\r\n')) return raw;
  return Buffer.from(text.endsWith('\n') ? `${text.slice(0, -1)}\r\n` : `${text}\r\n`, 'latin1');
}

/** Message bytes as sent in DATA: dot-stuffed, ending in CRLF, then the terminating dot. */
export function dataPayload(raw: Buffer): Buffer {
  const stuffed = wireForm(raw).toString('latin1').replace(/(^|\n)\./g, '$1..');
  return Buffer.from(`${stuffed}.\r\n`, 'latin1');
}

/** Sends one message in one transaction; returns the final reply. */
export async function sendRaw(port: number, raw: Buffer, envelope = { from: 'sender@example.com', to: ['rcpt@example.com'] }): Promise<Reply> {
  const client = await SmtpTestClient.connect(port);
  try {
    await client.hello();
    const mail = await client.command(`MAIL FROM:<${envelope.from}>`);
    if (mail.code !== 250) return mail;
    for (const to of envelope.to) {
      const rcpt = await client.command(`RCPT TO:<${to}>`);
      if (rcpt.code !== 250) return rcpt;
    }
    const data = await client.command('DATA');
    if (data.code !== 354) return data;
    client.write(dataPayload(raw));
    return await client.read();
  } finally {
    client.close();
  }
}

export function queuedId(reply: Reply | string): string {
  const text = typeof reply === 'string' ? reply : reply.text;
  const match = /queued as (\S+)/.exec(text);
  if (!match) throw new Error(`no id in reply: ${text}`);
  return match[1]!;
}

/** Stores messages over SMTP one after the other (so in this order, each in a session of its own); returns their ids. */
export async function sendInOrder(port: number, raws: readonly Buffer[]): Promise<string[]> {
  const ids: string[] = [];
  for (const raw of raws) ids.push(queuedId(await sendRaw(port, raw)));
  return ids;
}
