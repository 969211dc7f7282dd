/**
 * A byte-exact IMAP client for tests: commands are written as given (several at once for
 * pipelining), responses are read line by line with their literals (a line ending in `{n}` takes
 * the next n octets into it), and the socket can be upgraded with STARTTLS or opened with TLS.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface TaggedResult {
  /** Untagged and continuation responses before the tagged one, literals inline. */
  readonly untagged: readonly string[];
  /** The tagged line, e.g. `a1 OK [READ-WRITE] SELECT completed`. */
  readonly tagged: string;
}

export class ImapTestClient {
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

  static connect(port: number, options: { tls?: boolean } = {}): Promise<ImapTestClient> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(new ImapTestClient(socket)))
        : net.connect(port, '127.0.0.1', () => resolve(new ImapTestClient(socket)));
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

  async #bytes(count: number): Promise<Buffer> {
    while (this.#buffer.length < count) {
      if (this.#closed) throw new Error('connection closed inside a literal');
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
    const bytes = this.#buffer.subarray(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return bytes;
  }

  async #rawLine(): Promise<Buffer> {
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

  /** One response line, with any literals it carries inline (as latin1 text). */
  async readResponse(): Promise<string> {
    const parts: Buffer[] = [];
    for (;;) {
      const line = await this.#rawLine();
      parts.push(line);
      const literal = /~?\{(\d+)\}$/.exec(line.toString('latin1'));
      if (!literal) break;
      parts.push(Buffer.from('\r\n'), await this.#bytes(Number(literal[1])));
    }
    return Buffer.concat(parts).toString('latin1');
  }

  /** Reads responses until one matches. */
  async readUntil(pattern: RegExp): Promise<string[]> {
    const seen: string[] = [];
    for (;;) {
      const response = await this.readResponse();
      seen.push(response);
      if (pattern.test(response)) return seen;
    }
  }

  write(text: string | Buffer): void {
    this.#socket.write(text);
  }

  /** Sends `tag command` and reads up to its tagged response. */
  async command(tag: string, command: string): Promise<TaggedResult> {
    this.write(`${tag} ${command}\r\n`);
    return this.result(tag);
  }

  /** Reads up to the tagged response of `tag`. */
  async result(tag: string): Promise<TaggedResult> {
    const untagged: string[] = [];
    for (;;) {
      const response = await this.readResponse();
      if (response.startsWith(`${tag} `)) return { untagged, tagged: response };
      untagged.push(response);
    }
  }

  /** STARTTLS's OK read, the socket is wrapped in TLS (self-signed certificates accepted). */
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
