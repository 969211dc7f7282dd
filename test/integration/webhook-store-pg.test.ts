/**
 * The webhook outbox in PostgreSQL (src/store/pg/webhook-store.ts) on the harness's real server:
 * the contract every store passes (test/contract/webhook-store-contract.ts), then what only
 * PostgreSQL has: nodes sharing one outbox, a lease of one holding the others off its endpoint
 * until it lapses, and the order per endpoint kept while nodes claim at once.
 */
import type pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/pg/message-store.js';
import { createPgWebhookStore, type PgWebhookStore } from '../../src/store/pg/webhook-store.js';
import type { WebhookOutcome } from '../../src/store/webhook-types.js';
import { describeWebhookStoreContract, T } from '../contract/webhook-store-contract.js';
import { startPostgres, testPool, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });
/** The contract's restart case claims at T and requeues two minutes on: the lease must have run out by then. */
const CONTRACT_LEASE = 60_000;

let server: RunningPostgres;
let databases = 0;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describeWebhookStoreContract('PostgreSQL', async () => {
  const url = await server.createDatabase(`webhooks_${++databases}`);
  let nodes = 0;
  const openNode = async () => {
    const messages = await openPostgresStore(url, { log, now: () => T });
    const pool = testPool(url);
    const webhooks = createPgWebhookStore({ pool, nodeId: `node-${++nodes}`, leaseMs: CONTRACT_LEASE, renewEveryMs: 0 });
    return { messages, webhooks, pool };
  };
  let node: { messages: PostgresStore; webhooks: PgWebhookStore; pool: pg.Pool } = await openNode();
  const closeNode = async () => {
    node.webhooks.close();
    await node.pool.end();
    await node.messages.close();
  };
  return {
    get webhooks() {
      return node.webhooks;
    },
    get messages() {
      return node.messages;
    },
    async restart() {
      await closeNode();
      node = await openNode();
      return node;
    },
    close: closeNode,
  };
});

describe('the PostgreSQL webhook outbox, several nodes', () => {
  const LEASE = 1_000;
  const pools: pg.Pool[] = [];
  const stores: PgWebhookStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) store.close();
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
  });

  /** A fresh database with the schema, and a function making "nodes" on it (a pool each). */
  async function freshOutbox(): Promise<(name: string) => PgWebhookStore> {
    const url = await server.createDatabase(`webhook_nodes_${++databases}`);
    const sql = testPool(url, 1);
    pools.push(sql);
    await migratePostgres(sql, log);
    return (name) => {
      const pool = testPool(url, 4);
      pools.push(pool);
      const store = createPgWebhookStore({ pool, nodeId: name, leaseMs: LEASE, renewEveryMs: 0 });
      stores.push(store);
      return store;
    };
  }

  const E = 'http://127.0.0.1:1/hook';
  const delivered = (at: number): WebhookOutcome => ({ status: 'delivered', nextAttemptAt: null, attempt: { at, statusCode: 200, error: null, durationMs: 3 } });
  const draft = (n: number, endpoint = E) => ({ endpoint, event: 'message:stored', payload: JSON.stringify({ n }), mailbox: 'default' });

  it("a lease of node A holds node B off the endpoint until it lapses; then B claims it, and A's late outcome is refused", async () => {
    const node = await freshOutbox();
    const a = node('node-a');
    const b = node('node-b');
    const [head, second] = await a.enqueue([draft(1), draft(2), draft(3, 'http://127.0.0.1:1/other')], T);

    expect((await a.claimNext(E, T))?.id).toBe(head!.id);
    // The head is A's: nothing of this endpoint for B, not even the due delivery behind it.
    expect(await b.claimNext(E, T)).toBeNull();
    expect(await b.claimNext(E, T + LEASE - 1)).toBeNull();
    // B waits for the lease; A, sending it, waits for nothing.
    expect(await b.nextDueAt(E)).toBe(T + LEASE);
    expect(await a.nextDueAt(E)).toBeNull();
    // Another endpoint is not held up.
    expect(await b.claimNext('http://127.0.0.1:1/other', T)).toMatchObject({ status: 'sending' });
    // A renews while it sends: B still waits.
    expect(await a.renewLeases(T + 500)).toBe(1);
    expect(await b.claimNext(E, T + LEASE)).toBeNull();
    expect(await b.nextDueAt(E)).toBe(T + 500 + LEASE);
    // A stops renewing (paused, cut off): once its lease runs out, B takes the head over, not the one behind it.
    const taken = await b.claimNext(E, T + 500 + LEASE);
    expect(taken).toMatchObject({ id: head!.id, status: 'sending' });
    // A cannot claim the delivery B holds now, and its late outcome writes nothing.
    expect(await a.claimNext(E, T + 500 + LEASE + 1)).toBeNull();
    expect(await a.complete(head!.id, delivered(T + 500 + LEASE + 2))).toBe(false);
    expect(await a.renewLeases(T + 600 + LEASE)).toBe(0);
    const [listed] = await b.list(ALL_MAILBOXES, { endpoint: E, status: 'sending', limit: 5 });
    expect(listed).toMatchObject({ id: head!.id, attempts: 0 });
    expect(listed!.history).toEqual([]);
    // B's outcome is recorded; the next of the endpoint is anyone's.
    expect(await b.complete(head!.id, delivered(T + 600 + LEASE))).toBe(true);
    expect((await a.claimNext(E, T + 600 + LEASE))?.id).toBe(second!.id);
    expect(await a.countByStatus()).toEqual({ pending: 0, sending: 2, delivered: 1, failed: 0 });
  });

  it('nodes claiming at once never hold two deliveries of one endpoint, and send it in order', async () => {
    const node = await freshOutbox();
    const nodes = [node('n1'), node('n2'), node('n3')];
    const count = 30;
    await nodes[0]!.enqueue(Array.from({ length: count }, (_, n) => draft(n)), T);
    const sent: number[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    // Each node loops: claim, "send" (a turn of the event loop), complete, until the endpoint is empty.
    await Promise.all(
      nodes.map(async (store) => {
        for (let idle = 0; idle < 10_000 && sent.length < count; ) {
          const d = await store.claimNext(E, T);
          if (!d) {
            idle += 1;
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          inFlight += 1;
          mostInFlight = Math.max(mostInFlight, inFlight);
          sent.push((JSON.parse(d.payload) as { n: number }).n);
          await new Promise((resolve) => setImmediate(resolve));
          inFlight -= 1;
          expect(await store.complete(d.id, delivered(T))).toBe(true);
        }
      }),
    );
    expect(mostInFlight).toBe(1);
    expect(sent).toEqual(Array.from({ length: count }, (_, n) => n));
  });
});
