/**
 * A node dies in the middle of a delivery: its job passes to another node's relay queue after the
 * lease (src/store/pg/relay-store.ts + src/relay/queue.ts `wakeOn`), over a real PostgreSQL.
 * Node A's claim is taken as its queue takes one; A then stops renewing (as when SIGKILLed). Node
 * B's queue, idle since its start, hears of A's job as another node's `relay:updated` (what the
 * event bridge delivers), waits out the lease, delivers, and records the one attempt.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEventBus } from '../../src/events.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { createRelayQueue, type RelayTransport } from '../../src/relay/queue.js';
import { createPgRelayStore } from '../../src/store/pg/relay-store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { mailboxMessage } from '../helpers/mailboxes.js';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import { startPostgres, testPool, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });
let server: RunningPostgres;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describe('relay failover between nodes', () => {
  it('a job whose node stopped renewing its lease is delivered by another node, once', async () => {
    const url = await server.createDatabase('failover');
    const pools = [0, 1, 2].map(() => testPool(url, 3));
    const [schemaPool, poolA, poolB] = pools as [pg.Pool, pg.Pool, pg.Pool];
    await migratePostgres(schemaPool, pino({ level: 'silent' }));
    const messages = await openSqliteStore(':memory:', { log });
    const lease = { leaseMs: 300, renewEveryMs: 100 };
    const storeA = createPgRelayStore({ pool: poolA, nodeId: 'node-a', ...lease });
    const storeB = createPgRelayStore({ pool: poolB, nodeId: 'node-b', ...lease });
    const bus = createEventBus((err) => {
      throw err;
    });
    const otherNodes = createEventBus((err) => {
      throw err;
    });
    const delivered: string[][] = [];
    const transportB: RelayTransport = {
      resolveDestination: async () => ({ kind: 'hosts', hosts: [{ host: '127.0.0.1', preference: 0 }] }),
      resolveHost: async () => ({ kind: 'addresses', addresses: ['127.0.0.1'] }),
      deliver: async (_target, envelope) => {
        delivered.push([...envelope.to]);
        return { kind: 'attempted', tls: null, transcript: ['250 taken by B'], recipients: envelope.to.map((recipient) => ({ recipient, status: 'delivered', reply: '250 taken by B' })) };
      },
    };
    const settings = { isAllowed: () => true, auto: false, smarthost: null, mxPort: 25, retry: [60_000], giveUp: 86_400_000, concurrency: 2 };
    const queueB = createRelayQueue(settings, { store: storeB, messages, bus, transport: transportB, log, wakeOn: (wake) => otherNodes.on('relay:updated', wake) });
    try {
      await queueB.start();
      const message = await messages.insert(mailboxMessage('default', 'to relay'));
      const now = Date.now();
      await storeA.enqueue(message.id, 'default', [{ recipient: 'x@dest.test', domain: 'dest.test' }], now, now + 86_400_000);
      const [claimed] = await storeA.claimDue(Date.now(), 10);
      expect(claimed).toMatchObject({ status: 'sending' });
      // Node A dies mid-delivery: its lease is no longer renewed. B hears of A's job.
      storeA.close();
      otherNodes.emit('relay:updated', claimed!);

      await vi.waitFor(async () => expect((await storeB.jobsForMessage(message.id))[0]?.status).toBe('delivered'), { timeout: 15_000, interval: 20 });
      const [job] = await storeB.jobsForMessage(message.id);
      expect(job).toMatchObject({ attempts: 1, reply: '250 taken by B' });
      expect(job!.history.map((h) => h.reply)).toEqual(['250 taken by B']);
      expect(delivered).toEqual([['x@dest.test']]);
      // A's delivery finishing late changes nothing.
      expect(await storeA.complete(claimed!.id, { status: 'failed', nextAttemptAt: null, mxHost: null, reply: '550 late', reason: null, tls: null, attempt: { at: Date.now(), mxHost: null, outcome: 'failed', reply: '550 late', transcript: [] } })).toBeNull();
      expect((await storeB.list(ALL_MAILBOXES, { limit: 10 })).map((j) => j.status)).toEqual(['delivered']);
    } finally {
      await queueB.close();
      storeB.close();
      await messages.close();
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('a node whose lease ran out mid-delivery logs its late outcome as not recorded, not as an attempt', async () => {
    const url = await server.createDatabase('late_outcome');
    const pools = [0, 1, 2].map(() => testPool(url, 3));
    const [schemaPool, poolA, poolB] = pools as [pg.Pool, pg.Pool, pg.Pool];
    await migratePostgres(schemaPool, pino({ level: 'silent' }));
    const messages = await openSqliteStore(':memory:', { log });
    // A never renews: its lease runs out while its delivery hangs, as when the node is paused.
    const storeA = createPgRelayStore({ pool: poolA, nodeId: 'node-a', leaseMs: 300, renewEveryMs: 0 });
    const storeB = createPgRelayStore({ pool: poolB, nodeId: 'node-b', leaseMs: 300, renewEveryMs: 100 });
    const failOnError = (err: unknown) => {
      throw err;
    };
    const busA = createEventBus(failOnError);
    const busB = createEventBus(failOnError);
    const linesA: { msg: string; level: number }[] = [];
    const logA = pino({ level: 'info' }, { write: (line: string) => void linesA.push(JSON.parse(line)) });
    let releaseA!: () => void;
    const aMayFinish = new Promise<void>((resolve) => (releaseA = resolve));
    let aStarted!: () => void;
    const aDelivering = new Promise<void>((resolve) => (aStarted = resolve));
    const transport = (name: string, hold: Promise<void>, started: () => void): RelayTransport => ({
      resolveDestination: async () => ({ kind: 'hosts', hosts: [{ host: '127.0.0.1', preference: 0 }] }),
      resolveHost: async () => ({ kind: 'addresses', addresses: ['127.0.0.1'] }),
      deliver: async (_target, envelope) => {
        started();
        await hold;
        return { kind: 'attempted', tls: null, transcript: [`250 taken by ${name}`], recipients: envelope.to.map((recipient) => ({ recipient, status: 'delivered', reply: `250 taken by ${name}` })) };
      },
    });
    const settings = { isAllowed: () => true, auto: false, smarthost: null, mxPort: 25, retry: [60_000], giveUp: 86_400_000, concurrency: 2 };
    const queueA = createRelayQueue(settings, { store: storeA, messages, bus: busA, transport: transport('A', aMayFinish, aStarted), log: logA });
    const queueB = createRelayQueue(settings, { store: storeB, messages, bus: busB, transport: transport('B', Promise.resolve(), () => {}), log, wakeOn: (wake) => busA.on('relay:updated', wake) });
    try {
      const message = await messages.insert(mailboxMessage('default', 'late outcome'));
      const now = Date.now();
      await storeA.enqueue(message.id, 'default', [{ recipient: 'y@dest.test', domain: 'dest.test' }], now, now + 86_400_000);
      await queueA.start();
      await aDelivering;
      await queueB.start();
      await vi.waitFor(async () => expect((await storeB.jobsForMessage(message.id))[0]?.status).toBe('delivered'), { timeout: 15_000, interval: 20 });
      releaseA();
      await vi.waitFor(() => expect(linesA.some((l) => l.msg.startsWith('relay attempt not recorded'))).toBe(true), { timeout: 5_000, interval: 20 });
      expect(linesA.filter((l) => l.msg === 'relay attempt')).toEqual([]);
      const [job] = await storeB.jobsForMessage(message.id);
      expect(job!.history.map((h) => h.reply)).toEqual(['250 taken by B']);
    } finally {
      releaseA();
      await queueA.close();
      await queueB.close();
      storeA.close();
      storeB.close();
      await messages.close();
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
