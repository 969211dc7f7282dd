/**
 * A byte-exact IMAP client for tests: commands are written as given (several at once for
 * pipelining), responses are read line by line with their literals (a line ending in `{n}` takes
 * the next n octets into it), and the socket can be upgraded with STARTTLS or opened with TLS.
 */
import type net from 'node:net';
import { TestSocket } from './test-socket.js';

export interface TaggedResult {
  /** Untagged and continuation responses before the tagged one, literals inline. */
  readonly untagged: readonly string[];
  /** The tagged line, e.g. `a1 OK [READ-WRITE] SELECT completed`. */
  readonly tagged: string;
}

export class ImapTestClient {
  readonly #connection: TestSocket;
  readonly closed: Promise<void>;

  private constructor(connection: TestSocket) {
    this.#connection = connection;
    this.closed = connection.closed;
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<ImapTestClient> {
    return new ImapTestClient(await TestSocket.connect(port, options));
  }

  get socket(): net.Socket {
    return this.#connection.socket;
  }

  get isClosed(): boolean {
    return this.#connection.isClosed;
  }

  /** One response line, with any literals it carries inline (as latin1 text). */
  async readResponse(): Promise<string> {
    const parts: Buffer[] = [];
    for (;;) {
      const line = await this.#connection.line();
      parts.push(line);
      const literal = /~?\{(\d+)\}$/.exec(line.toString('latin1'));
      if (!literal) break;
      parts.push(Buffer.from('\r\n'), await this.#connection.bytes(Number(literal[1])));
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
    this.#connection.write(text);
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
  upgrade(): Promise<void> {
    return this.#connection.upgrade();
  }

  close(): void {
    this.#connection.close();
  }
}
