/**
 * Webhooks from two Kotak nodes on one PostgreSQL database (issue 22): two real `kotak` processes
 * with `--db postgres://…` on the harness's server and one `--webhook` endpoint (a real HTTP server
 * here). Messages sent to both nodes reach the endpoint each at least once, in the outbox's order,
 * never two requests at once (one node at a time holds the endpoint's head, under a lease); and
 * when the node that is delivering is killed (kill -9: its lease is no longer renewed and lapses),
 * the other node sends what it was sending and everything after it.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKotakProcess, type KotakProcess } from '../helpers/child.js';
import { startPostgres, testPool, type RunningPostgres } from '../helpers/postgres.js';
import { queuedId } from '../helpers/smtp-client.js';

interface Received {
  /** The delivery's id (the body's `id`): the receiver de-duplicates by it. */
  readonly deliveryId: string;
  /** The message the delivery is about (the body's `data.id`). */
  readonly messageId: string;
  /** Answered 200 (false: held, then cut off when its node died). */
  answered: boolean;
}

/**
 * The endpoint: records every request, answers 200 after `holdMs` (a receiver that takes a moment,
 * so two requests at once would overlap here and be counted), or holds requests unanswered while
 * `holding` is set. Counts the requests open at once.
 */
class Endpoint {
  readonly received: Received[] = [];
  holding = false;
  open = 0;
  maxOpen = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly server = createServer((request, response) => this.handle(request, response));
  url = '';

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Resolves once `done` holds (checked now and after each request or answer). */
  async waitFor(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Delivery ids in the order they first arrived, each once. */
  firstArrivals(): string[] {
    return [...new Set(this.received.map((r) => r.deliveryId))];
  }

  answeredMessages(): Set<string> {
    return new Set(this.received.filter((r) => r.answered).map((r) => r.messageId));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    response.once('close', () => {
      this.open--;
      this.wake();
    });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; data: { id: string } };
      const entry: Received = { deliveryId: body.id, messageId: body.data.id, answered: false };
      this.received.push(entry);
      this.wake();
      if (this.holding) return;
      // The receiver's own latency, so that overlapping requests would be seen open together.
      setTimeout(() => {
        entry.answered = true;
        response.writeHead(200).end('ok');
      }, 20);
    });
  }
}

let server: RunningPostgres;
let endpoint: Endpoint;
const nodes: KotakProcess[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  for (const node of nodes.splice(0)) await stopNode(node, 'SIGTERM');
  await endpoint?.close();
});
afterAll(async () => {
  await server?.stop();
});

async function stopNode(node: KotakProcess, signal: NodeJS.Signals): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  node.child.kill(signal);
  await once(node.child, 'exit');
}

async function startNodes(url: string): Promise<[KotakProcess, KotakProcess]> {
  endpoint = new Endpoint();
  await endpoint.start();
  const args = ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', url, '--log-level', 'info', '--webhook', endpoint.url, '--webhook-lease', '1s'];
  // One after another: the first migrates, the other finds the schema.
  for (let i = 0; i < 2; i++) nodes.push(await startKotakProcess(args));
  return [nodes[0]!, nodes[1]!];
}

/** Sends `count` messages to `node`, one after another; returns their ids. */
async function sendTo(node: KotakProcess, label: string, count: number): Promise<string[]> {
  const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: node.smtpPort, ignoreTLS: true });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(queuedId((await smtp.sendMail({ from: 'app@nodes.test', to: 'user@nodes.test', subject: `${label} ${i}`, text: 'x' })).response));
  smtp.close();
  return ids;
}

interface Listed {
  id: string;
  seq: number;
  status: string;
  attempts: number;
  payload: { id: string };
}

/** The outbox as a node lists it, oldest first. */
async function outbox(node: KotakProcess): Promise<Listed[]> {
  const body = (await (await fetch(`${node.url}/api/webhooks/deliveries?limit=500`)).json()) as { deliveries: Listed[] };
  return body.deliveries.reverse();
}

describe('webhooks from two nodes on one PostgreSQL database', () => {
  it('deliver what both nodes received, each at least once, in the outbox order, one request at a time', async () => {
    const [a, b] = await startNodes(await server.createDatabase('webhook_nodes'));
    // Both nodes take mail at the same time.
    const [toA, toB] = await Promise.all([sendTo(a, 'to A', 12), sendTo(b, 'to B', 12)]);
    const sent = [...toA, ...toB];
    await endpoint.waitFor(() => sent.every((id) => endpoint.answeredMessages().has(id)));

    const listed = await outbox(b);
    expect(listed.map((d) => d.payload.id).sort()).toEqual([...sent].sort());
    // What arrived first arrived in seq order: the outbox's, whichever node sent it.
    expect(endpoint.firstArrivals()).toEqual(listed.map((d) => d.id));
    expect(endpoint.maxOpen).toBe(1);
    // Both nodes list the same outbox; every delivery recorded as delivered once the last answer is in.
    await expect.poll(async () => (await outbox(a)).map((d) => d.status), { timeout: 10_000, interval: 20 }).toEqual(listed.map(() => 'delivered'));
  });

  it('when the node that is delivering is killed, the other sends its delivery again after the lease and finishes', async () => {
    const url = await server.createDatabase('webhook_failover');
    const [a, b] = await startNodes(url);
    endpoint.holding = true;
    const sent = [...(await sendTo(a, 'before', 3)), ...(await sendTo(b, 'before', 3))];
    await endpoint.waitFor(() => endpoint.received.length === 1);
    const [held] = endpoint.received;

    // Which node holds it: the lease owner's name carries its pid (src/node-id.ts).
    const pool = testPool(url, 1);
    const { rows } = await pool.query<{ lease_owner: string }>("SELECT lease_owner FROM webhook_deliveries WHERE status = 'sending'");
    await pool.end();
    expect(rows).toHaveLength(1);
    const ownerPid = Number(/-(\d+)-[0-9a-f]+$/.exec(rows[0]!.lease_owner)![1]);
    const delivering = [a, b].find((node) => node.child.pid === ownerPid)!;
    const survivor = delivering === a ? b : a;
    expect(delivering).toBeDefined();

    // kill -9: no goodbye, the lease just stops being renewed. Its request is cut off with it.
    await stopNode(delivering, 'SIGKILL');
    await endpoint.waitFor(() => endpoint.open === 0);
    endpoint.holding = false;
    const more = await sendTo(survivor, 'after', 2);
    const all = [...sent, ...more];
    await endpoint.waitFor(() => all.every((id) => endpoint.answeredMessages().has(id)));

    // The held delivery was sent again (same id: the receiver de-duplicates it), then the rest in order.
    expect(endpoint.received.filter((r) => r.deliveryId === held!.deliveryId)).toHaveLength(2);
    const listed = await outbox(survivor);
    expect(listed.map((d) => d.payload.id)).toEqual(all);
    expect(endpoint.firstArrivals()).toEqual(listed.map((d) => d.id));
    expect(endpoint.maxOpen).toBe(1);
    await expect.poll(async () => (await outbox(survivor)).map((d) => d.status), { timeout: 10_000, interval: 20 }).toEqual(all.map(() => 'delivered'));
  });
});
