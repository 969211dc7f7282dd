/**
 * A byte-exact POP3 client for tests: commands are written as given (several at once for
 * pipelining), replies are read line by line, multi-line bodies are un-stuffed, and the socket can
 * be upgraded with STLS or opened with TLS from the start.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface MultilineReply {
  readonly status: string;
  /** The body as sent, dot-stuffing removed, CRLFs kept, without the terminating ".". */
  readonly body: Buffer;
  readonly lines: readonly string[];
}

export class Pop3TestClient {
  #socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #waiting: (() => void) | null = null;
  #closed = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#listen(socket);
  }

  static connect(port: number, options: { tls?: boolean } = {}): Promise<Pop3TestClient> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(new Pop3TestClient(socket)))
        : net.connect(port, '127.0.0.1', () => resolve(new Pop3TestClient(socket)));
      socket.once('error', reject);
    });
  }

  get socket(): net.Socket {
    return this.#socket;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      this.#resolveClosed();
      this.#wake();
    });
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.();
  }

  async #line(): Promise<Buffer> {
    for (;;) {
      const end = this.#buffer.indexOf('\r\n');
      if (end >= 0) {
        const line = this.#buffer.subarray(0, end);
        this.#buffer = this.#buffer.subarray(end + 2);
        return line;
      }
      if (this.#closed) throw new Error(`connection closed (unread: ${JSON.stringify(this.#buffer.toString('latin1'))})`);
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
  }

  async readLine(): Promise<string> {
    return (await this.#line()).toString('utf8');
  }

  async readMultiline(): Promise<MultilineReply> {
    const status = await this.readLine();
    if (!status.startsWith('+OK')) return { status, body: Buffer.alloc(0), lines: [] };
    const parts: Buffer[] = [];
    for (;;) {
      const line = await this.#line();
      if (line.length === 1 && line[0] === 0x2e) break;
      parts.push(line[0] === 0x2e ? line.subarray(1) : line, Buffer.from('\r\n'));
    }
    const body = Buffer.concat(parts);
    return { status, body, lines: body.toString('utf8').split('\r\n').slice(0, -1) };
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.readLine();
  }

  async multiline(line: string): Promise<MultilineReply> {
    this.write(`${line}\r\n`);
    return this.readMultiline();
  }

  /** Greeting, then USER/PASS; returns the PASS reply. */
  async login(user: string, password: string): Promise<string> {
    await this.readLine();
    const reply = await this.command(`USER ${user}`);
    if (!reply.startsWith('+OK')) return reply;
    return this.command(`PASS ${password}`);
  }

  /** After "+OK" to STLS: the TLS handshake on the same socket. */
  async upgrade(): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    this.#buffer = Buffer.alloc(0);
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.#socket = secure;
    this.#listen(secure);
  }

  close(): void {
    this.#socket.destroy();
  }
}
