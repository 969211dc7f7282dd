/**
 * The byte level the POP3 and IMAP test clients share: a loopback socket (plain, or TLS from the
 * start), what it received buffered, lines and fixed byte counts read from it as they arrive, and
 * an in-band TLS upgrade (STLS, STARTTLS). Self-signed certificates are accepted.
 */
import net from 'node:net';
import tls from 'node:tls';

export class TestSocket {
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

  static connect(port: number, options: { tls?: boolean } = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(new TestSocket(socket)))
        : net.connect(port, '127.0.0.1', () => resolve(new TestSocket(socket)));
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

  /** The next line, without its CRLF. */
  async line(): Promise<Buffer> {
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

  /** The next `count` octets (a literal). */
  async bytes(count: number): Promise<Buffer> {
    while (this.#buffer.length < count) {
      if (this.#closed) throw new Error('connection closed inside a literal');
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
    const bytes = this.#buffer.subarray(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return bytes;
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** After the server's OK to STLS/STARTTLS: the TLS handshake on the same socket. */
  async upgrade(): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    this.#buffer = Buffer.alloc(0);
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(socket));
      socket.once('error', reject);
    });
    this.#socket = secure;
    this.#listen(secure);
  }

  close(): void {
    this.#socket.destroy();
  }
}
