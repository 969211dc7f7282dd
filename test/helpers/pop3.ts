/**
 * A byte-exact POP3 client for tests: commands are written as given (several at once for
 * pipelining), replies are read line by line, multi-line bodies are un-stuffed, and the socket can
 * be upgraded with STLS or opened with TLS from the start.
 */
import type net from 'node:net';
import { TestSocket } from './test-socket.js';

export interface MultilineReply {
  readonly status: string;
  /** The body as sent, dot-stuffing removed, CRLFs kept, without the terminating ".". */
  readonly body: Buffer;
  readonly lines: readonly string[];
}

export class Pop3TestClient {
  readonly #connection: TestSocket;
  readonly closed: Promise<void>;

  private constructor(connection: TestSocket) {
    this.#connection = connection;
    this.closed = connection.closed;
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<Pop3TestClient> {
    return new Pop3TestClient(await TestSocket.connect(port, options));
  }

  get socket(): net.Socket {
    return this.#connection.socket;
  }

  get isClosed(): boolean {
    return this.#connection.isClosed;
  }

  async readLine(): Promise<string> {
    return (await this.#connection.line()).toString('utf8');
  }

  async readMultiline(): Promise<MultilineReply> {
    const status = await this.readLine();
    if (!status.startsWith('+OK')) return { status, body: Buffer.alloc(0), lines: [] };
    const parts: Buffer[] = [];
    for (;;) {
      const line = await this.#connection.line();
      if (line.length === 1 && line[0] === 0x2e) break;
      parts.push(line[0] === 0x2e ? line.subarray(1) : line, Buffer.from('\r\n'));
    }
    const body = Buffer.concat(parts);
    return { status, body, lines: body.toString('utf8').split('\r\n').slice(0, -1) };
  }

  write(data: string | Buffer): void {
    this.#connection.write(data);
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
  upgrade(): Promise<void> {
    return this.#connection.upgrade();
  }

  close(): void {
    this.#connection.close();
  }
}
