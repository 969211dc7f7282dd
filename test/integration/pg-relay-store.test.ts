/**
 * The relay queue in PostgreSQL (src/store/pg/relay-store.ts), on a real server: the SQLite
 * queue's contract, and leases for many nodes. Each store has its own pool, as a node would.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import type { RelayJobUpdate } from '../../src/store/relay-types.js';
import { createPgRelayStore, type PgRelayStore } from '../../src/store/pg/relay-store.js';
import { startPostgres, testPool, type RunningPostgres } from '../helpers/postgres.js';
import { migratePostgres } from '../../src/store/pg/migrate.js';

const LEASE = 30_000;
const T0 = Date.UTC(2026, 0, 1);

let server: RunningPostgres;
let databases = 0;
const pools: pg.Pool[] = [];
const stores: PgRelayStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

/** A fresh database with the relay schema, and a function making "nodes" on it (one pool each). */
async function freshQueue(): Promise<{ node: (name: string, options?: { renewEveryMs?: number; now?: () => number }) => PgRelayStore; sql: pg.Pool }> {
  const url = await server.createDatabase(`relay_${++databases}`);
  const sql = testPool(url, 2);
  pools.push(sql);
  await migratePostgres(sql, pino({ level: 'silent' }));
  return {
    sql,
    node(name, options = {}) {
      const pool = testPool(url, 4);
      pools.push(pool);
      const store = createPgRelayStore({ pool, nodeId: name, leaseMs: LEASE, renewEveryMs: options.renewEveryMs ?? 0, now: options.now });
      stores.push(store);
      return store;
    },
  };
}

function outcome(status: RelayJobUpdate['status'], at: number, reply: string): RelayJobUpdate {
  return {
    status, nextAttemptAt: status === 'deferred' ? at + 60_000 : null, mxHost: 'mx.example.test', reply, reason: null, tls: null,
    attempt: { at, mxHost: 'mx.example.test', outcome: status, reply, transcript: ['EHLO kotak', reply] },
  };
}

describe('the PostgreSQL relay store, one node', () => {
  it('queues, claims, records outcomes with their history, and lists by scope, as the SQLite queue does', async () => {
    const { node } = await freshQueue();
    const store = node('a');
    const jobs = await store.enqueue('m1', 'team-a', [{ recipient: 'x@one.test', domain: 'one.test' }, { recipient: 'y@two.test', domain: 'two.test' }], T0, T0 + 86_400_000);
    expect(jobs.map((j) => [j.recipient, j.status, j.attempts, j.mailbox, j.nextAttemptAt])).toEqual([
      ['x@one.test', 'queued', 0, 'team-a', new Date(T0).toISOString()],
      ['y@two.test', 'queued', 0, 'team-a', new Date(T0).toISOString()],
    ]);
    await store.enqueue('m2', 'team-b', [{ recipient: 'z@one.test', domain: 'one.test' }], T0 + 5000, T0 + 86_400_000);
    expect(await store.nextDueAt()).toBe(T0);
    expect(await store.claimDue(T0 - 1, 10)).toEqual([]);

    const claimed = await store.claimDue(T0 + 1000, 10);
    expect(claimed.map((j) => [j.messageId, j.recipient, j.status])).toEqual([['m1', 'x@one.test', 'sending'], ['m1', 'y@two.test', 'sending']]);
    expect(await store.nextDueAt()).toBe(T0 + 5000); // its own deliveries are not due to itself

    const delivered = await store.complete(claimed[0]!.id, outcome('delivered', T0 + 2000, '250 ok'));
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, reply: '250 ok', nextAttemptAt: null, mxHost: 'mx.example.test' });
    const deferred = await store.complete(claimed[1]!.id, outcome('deferred', T0 + 2000, '451 later'));
    expect(deferred).toMatchObject({ status: 'deferred', attempts: 1, nextAttemptAt: new Date(T0 + 62_000).toISOString() });
    // Completing twice is refused: the claim is spent.
    expect(await store.complete(claimed[0]!.id, outcome('failed', T0 + 3000, '550 no'))).toBeNull();

    const history = await store.jobsForMessage('m1');
    expect(history.map((j) => [j.recipient, j.status, j.history.map((a) => [a.at, a.outcome, a.reply, a.transcript])])).toEqual([
      ['x@one.test', 'delivered', [[new Date(T0 + 2000).toISOString(), 'delivered', '250 ok', ['EHLO kotak', '250 ok']]]],
      ['y@two.test', 'deferred', [[new Date(T0 + 2000).toISOString(), 'deferred', '451 later', ['EHLO kotak', '451 later']]]],
    ]);
    expect(await store.jobsForMessage('nothing')).toEqual([]);

    expect((await store.list(ALL_MAILBOXES, { limit: 10 })).map((j) => j.messageId)).toEqual(['m2', 'm1', 'm1']);
    expect((await store.list(onlyMailboxes(['team-a']), { limit: 10 })).map((j) => j.recipient)).toEqual(['y@two.test', 'x@one.test']);
    expect((await store.list(ALL_MAILBOXES, { status: 'deferred', limit: 10 })).map((j) => j.recipient)).toEqual(['y@two.test']);
    expect(await store.list(onlyMailboxes([]), { limit: 10 })).toEqual([]);
    expect(await store.enqueue('m3', 'default', [], T0, T0)).toEqual([]);
  });
});

describe('the PostgreSQL relay store, many nodes', () => {
  it('three nodes claiming at once from a queue of 300 jobs take each job exactly once', async () => {
    const { node, sql } = await freshQueue();
    const nodes = [node('a'), node('b'), node('c')];
    for (let m = 0; m < 30; m++) {
      await nodes[m % 3]!.enqueue(`m${m}`, 'default', Array.from({ length: 10 }, (_, r) => ({ recipient: `r${r}@d${r % 3}.test`, domain: `d${r % 3}.test` })), T0 + m, T0 + 86_400_000);
    }
    const taken = new Map<number, string[]>();
    await Promise.all(
      nodes.map(async (store, n) => {
        for (;;) {
          const jobs = await store.claimDue(T0 + 1000, 7);
          if (jobs.length === 0) return;
          for (const job of jobs) taken.set(job.id, [...(taken.get(job.id) ?? []), `node${n}`]);
          // Each node completes what it took while the others go on claiming.
          await Promise.all(jobs.map((job) => store.complete(job.id, outcome('delivered', T0 + 2000, '250 ok'))));
        }
      }),
    );
    expect(taken.size).toBe(300);
    expect([...taken.values()].filter((owners) => owners.length !== 1)).toEqual([]);
    const counts = (await sql.query<{ status: string; n: number; attempts: number }>(
      'SELECT status, count(*)::int AS n, sum(attempts)::int AS attempts FROM relay_jobs GROUP BY status')).rows;
    expect(counts).toEqual([{ status: 'delivered', n: 300, attempts: 300 }]);
    expect((await sql.query('SELECT count(*)::int AS n FROM relay_attempts')).rows).toEqual([{ n: 300 }]);
  });

  it('a job whose lease ran out is claimed by another node, and the old owner\'s late outcome is refused', async () => {
    const { node } = await freshQueue();
    const a = node('a');
    const b = node('b');
    await a.enqueue('m1', 'default', [{ recipient: 'x@one.test', domain: 'one.test' }], T0, T0 + 86_400_000);
    const [job] = await a.claimDue(T0, 10);
    expect(job).toBeDefined();

    // While A's lease lasts, B neither claims nor requeues the job, and knows when it would be due.
    expect(await b.claimDue(T0 + LEASE - 1, 10)).toEqual([]);
    expect(await b.requeueInterrupted(T0 + LEASE - 1)).toBe(0);
    expect(await b.nextDueAt()).toBe(T0 + LEASE);
    expect(await a.nextDueAt()).toBeNull();

    // A stopped renewing (killed, or cut off): after the lease B takes the job over.
    const [again] = await b.claimDue(T0 + LEASE, 10);
    expect(again).toMatchObject({ id: job!.id, status: 'sending' });
    expect(await a.complete(job!.id, outcome('failed', T0 + LEASE + 1, '550 from the old owner'))).toBeNull();
    expect(await a.renewLeases(T0 + LEASE + 1)).toBe(0);
    expect(await b.complete(job!.id, outcome('delivered', T0 + LEASE + 2, '250 from the new owner'))).toMatchObject({ status: 'delivered', reply: '250 from the new owner', attempts: 1 });
    const [history] = await b.jobsForMessage('m1');
    expect(history!.history.map((h) => h.reply)).toEqual(['250 from the new owner']);
  });

  it('renewing keeps a lease; requeueInterrupted queues again only jobs whose lease ran out', async () => {
    const { node, sql } = await freshQueue();
    const a = node('a');
    const b = node('b');
    await a.enqueue('m1', 'default', [{ recipient: 'x@one.test', domain: 'one.test' }, { recipient: 'y@one.test', domain: 'one.test' }], T0, T0 + 86_400_000);
    const claimed = await a.claimDue(T0, 10);
    expect(claimed).toHaveLength(2);
    await a.complete(claimed[1]!.id, outcome('delivered', T0 + 10, '250 ok'));
    expect(await a.renewLeases(T0 + 20_000)).toBe(1);
    expect(await b.claimDue(T0 + LEASE + 1, 10)).toEqual([]);
    expect(await b.nextDueAt()).toBe(T0 + 20_000 + LEASE);
    expect(await b.requeueInterrupted(T0 + LEASE + 1)).toBe(0);

    // A node that starts after the lease ran out puts the job back in the queue.
    expect(await b.requeueInterrupted(T0 + 20_000 + LEASE)).toBe(1);
    const { rows } = await sql.query('SELECT status, lease_owner, lease_until, next_attempt_at::float8 AS next FROM relay_jobs WHERE id = $1', [claimed[0]!.id]);
    expect(rows).toEqual([{ status: 'queued', lease_owner: null, lease_until: null, next: T0 + 20_000 + LEASE }]);
    expect(await a.complete(claimed[0]!.id, outcome('delivered', T0 + 50_001, '250 late'))).toBeNull();
  });

  it('renews the leases of jobs in delivery by itself, on its timer', async () => {
    const { node, sql } = await freshQueue();
    let clock = T0;
    const a = node('a', { renewEveryMs: 10, now: () => clock });
    await a.enqueue('m1', 'default', [{ recipient: 'x@one.test', domain: 'one.test' }], T0, T0 + 86_400_000);
    const [job] = await a.claimDue(T0, 10);
    clock = T0 + 25_000;
    await vi.waitFor(async () => {
      const { rows } = await sql.query<{ until: number }>('SELECT lease_until::float8 AS until FROM relay_jobs WHERE id = $1', [job!.id]);
      expect(rows[0]!.until).toBe(T0 + 25_000 + LEASE);
    }, { timeout: 10_000, interval: 20 });
  });
});
