/**
 * A webhook receiver for tests: a real node:http server on 127.0.0.1:0 that records every request
 * (headers and raw body) and answers as it is told: 200 (default), a status (500, 429 with a
 * Retry-After, …), `hang` (never answers; released by `release()` or `close()`), or `close` (drops
 * the connection without an answer). Tests wait on conditions: `waitFor(predicate)`.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The body parsed as JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
  readonly body: any;
  /** The answer it was given (a status, `hang` or `close`). */
  readonly answer: Answer;
}

export type Answer = number | 'hang' | 'close' | { readonly status: number; readonly headers: Readonly<Record<string, string>> };

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Answers used one per request, in order, before `answer` is used. */
  private readonly queued: Answer[] = [];
  private answer: Answer = 200;
  private readonly hanging = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters: (() => void)[] = [];

  private constructor(private readonly server: ReturnType<typeof createServer>, readonly url: string) {}

  static async start(path = '/hook'): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | null = null;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => receiver!.handle(request.headers, Buffer.concat(chunks).toString('utf8'), response));
    });
    server.on('connection', (socket) => {
      receiver!.sockets.add(socket);
      socket.on('close', () => receiver!.sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`);
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** How every later request is answered (after any queued answers). */
  answerWith(answer: Answer): void {
    this.answer = answer;
  }

  /** Answers for the next requests, one each, in order. */
  queue(...answers: Answer[]): void {
    this.queued.push(...answers);
  }

  /** Answers every request held by `hang` with this status. */
  release(status = 200): void {
    for (const response of this.hanging) response.writeHead(status).end();
    this.hanging.clear();
  }

  /** Resolves once `predicate` holds over what was received (checked now and after each request). */
  async waitFor(predicate: (received: readonly ReceivedWebhook[]) => boolean): Promise<readonly ReceivedWebhook[]> {
    while (!predicate(this.received)) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received;
  }

  /** The received requests' bodies, first of each delivery id (a delivery sent again is de-duplicated). */
  uniqueBodies(): ReceivedWebhook['body'][] {
    const seen = new Set<string>();
    return this.received.filter((r) => r.answer === 200 || (typeof r.answer === 'object' && r.answer.status < 300)).map((r) => r.body).filter((b) => !seen.has(b.id) && seen.add(b.id));
  }

  async close(): Promise<void> {
    this.release(503);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private handle(headers: IncomingHttpHeaders, rawBody: string, response: ServerResponse): void {
    const answer = this.queued.shift() ?? this.answer;
    let body: unknown = null;
    try {
      body = JSON.parse(rawBody);
    } catch {
      // Kept raw: a test reads rawBody.
    }
    this.received.push({ headers, rawBody, body, answer });
    if (answer === 'hang') this.hanging.add(response);
    else if (answer === 'close') response.socket?.destroy();
    else if (typeof answer === 'number') response.writeHead(answer, { 'Content-Type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
    else response.writeHead(answer.status, answer.headers).end();
    for (const wake of this.waiters.splice(0)) wake();
  }
}
