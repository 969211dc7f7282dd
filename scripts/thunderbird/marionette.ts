/**
 * A minimal client of Marionette, the remote protocol built into Gecko (Firefox, Thunderbird):
 * length-prefixed JSON over TCP. A message is `<decimal length>:<JSON>`; a command is
 * `[0, id, name, params]`, its answer `[1, id, error, result]`. The first message from the server
 * is a greeting naming the protocol level.
 */
import net from 'node:net';
import { once } from 'node:events';

/** One Marionette message on the wire: its UTF-8 JSON's length in bytes, a colon, the JSON. */
export function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'latin1'), body]);
}

/**
 * The whole messages at the start of `buffer`, and the bytes left over (the start of the next
 * message, kept until more arrives). Throws on a length that is no decimal number.
 */
export function readFrames(buffer: Buffer): { messages: unknown[]; rest: Buffer } {
  const messages: unknown[] = [];
  let rest = buffer;
  for (;;) {
    const colon = rest.indexOf(0x3a);
    if (colon < 0) {
      if (rest.length > 0 && !/^\d+$/.test(rest.toString('latin1'))) throw new Error('marionette sent a message without a length');
      return { messages, rest };
    }
    const prefix = rest.subarray(0, colon).toString('latin1');
    if (!/^\d+$/.test(prefix)) throw new Error(`marionette sent a message without a length ("${prefix.slice(0, 20)}")`);
    const end = colon + 1 + Number(prefix);
    if (rest.length < end) return { messages, rest };
    messages.push(JSON.parse(rest.subarray(colon + 1, end).toString('utf8')));
    rest = rest.subarray(end);
  }
}

interface MarionetteError {
  readonly error: string;
  readonly message: string;
  readonly stacktrace?: string;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; name: string };

export class MarionetteClient {
  readonly #socket: net.Socket;
  readonly #pending = new Map<number, Pending>();
  #buffer: Buffer = Buffer.alloc(0);
  #nextId = 1;
  #greeting: ((value: unknown) => void) | null = null;
  #closed: Error | null = null;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('close', () => this.#fail(new Error('marionette connection closed')));
    socket.on('error', (error) => this.#fail(error));
  }

  /** Connects and waits for the greeting. */
  static async connect(port: number): Promise<MarionetteClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const client = new MarionetteClient(socket);
    const greeting = await new Promise<unknown>((resolve) => (client.#greeting = resolve));
    const level = (greeting as { marionetteProtocol?: number }).marionetteProtocol;
    if (level !== 3) throw new Error(`marionette protocol ${String(level)} is not the level 3 this client speaks`);
    return client;
  }

  /** Sends a command and resolves with its result (rejects with Marionette's error and message). */
  send(name: string, params: Record<string, unknown> = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    this.#socket.write(frame([0, id, name, params]));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject, name }));
  }

  /**
   * Runs a script in the current context (chrome, once `Marionette:SetContext` said so) and
   * returns its value. The script's `arguments` are `args`; for an async script, the last
   * argument is the callback that resolves it.
   */
  async execute<T>(script: string, args: unknown[] = [], options: { async?: boolean } = {}): Promise<T> {
    const command = options.async ? 'WebDriver:ExecuteAsyncScript' : 'WebDriver:ExecuteScript';
    const result = (await this.send(command, { script, args, sandbox: 'system', newSandbox: false })) as { value: T };
    return result.value;
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(chunk: Buffer): void {
    try {
      const { messages, rest } = readFrames(Buffer.concat([this.#buffer, chunk]));
      this.#buffer = rest;
      for (const message of messages) this.#dispatch(message);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      this.#socket.destroy();
    }
  }

  #dispatch(message: unknown): void {
    if (!Array.isArray(message)) {
      const greet = this.#greeting;
      this.#greeting = null;
      greet?.(message);
      return;
    }
    const [, id, error, result] = message as [number, number, MarionetteError | null, unknown];
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (error) pending.reject(new Error(`${pending.name}: ${error.error}: ${error.message}`));
    else pending.resolve(result);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
