/**
 * RelayStore.countByStatus, the metrics' relay queue depth, in the contract style: one suite run
 * against the SQLite store and the PostgreSQL store (a real server from test/helpers/postgres.ts),
 * through the interface only.
 */
import pino from 'pino';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayJobUpdate, RelayStore } from '../../src/store/relay-types.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { createPgRelayStore } from '../../src/store/pg/relay-store.js';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import { startPostgres, testPool, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 0, 1);

function outcome(status: RelayJobUpdate['status'], at: number): RelayJobUpdate {
  const reply = status === 'delivered' ? '250 ok' : status === 'deferred' ? '451 later' : '550 no';
  return {
    status, nextAttemptAt: status === 'deferred' ? at + 60_000 : null, mxHost: 'mx.example.test', reply, reason: null, tls: null,
    attempt: { at, mxHost: 'mx.example.test', outcome: status, reply, transcript: [reply] },
  };
}

/** `open` gives an empty relay store and a function that closes it. */
function describeCountByStatus(name: string, open: () => Promise<{ relay: RelayStore; close: () => Promise<void> }>): void {
  describe(`${name}: RelayStore.countByStatus`, () => {
    it('is every status at zero for an empty queue', async () => {
      const { relay, close } = await open();
      try {
        expect(await relay.countByStatus()).toEqual({ queued: 0, sending: 0, delivered: 0, deferred: 0, failed: 0 });
      } finally {
        await close();
      }
    });

    it('counts the jobs in each status, every mailbox\'s, as they move', async () => {
      const { relay, close } = await open();
      try {
        const rcpt = (n: number) => ({ recipient: `r${n}@example.test`, domain: 'example.test' });
        await relay.enqueue('m1', 'a', [rcpt(1), rcpt(2), rcpt(3)], T0, T0 + 86_400_000);
        await relay.enqueue('m2', 'b', [rcpt(4), rcpt(5)], T0, T0 + 86_400_000);
        expect(await relay.countByStatus()).toEqual({ queued: 5, sending: 0, delivered: 0, deferred: 0, failed: 0 });

        const claimed = await relay.claimDue(T0 + 1, 4);
        expect(claimed).toHaveLength(4);
        expect(await relay.countByStatus()).toEqual({ queued: 1, sending: 4, delivered: 0, deferred: 0, failed: 0 });

        await relay.complete(claimed[0]!.id, outcome('delivered', T0 + 2));
        await relay.complete(claimed[1]!.id, outcome('delivered', T0 + 2));
        await relay.complete(claimed[2]!.id, outcome('deferred', T0 + 2));
        await relay.complete(claimed[3]!.id, outcome('failed', T0 + 2));
        expect(await relay.countByStatus()).toEqual({ queued: 1, sending: 0, delivered: 2, deferred: 1, failed: 1 });
      } finally {
        await close();
      }
    });
  });
}

describeCountByStatus('SQLite', async () => {
  const store = await openSqliteStore(':memory:', { log });
  return { relay: store.relay, close: () => store.close() };
});

let server: RunningPostgres;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describeCountByStatus('PostgreSQL', async () => {
  const url = await server.createDatabase(`relay_counts_${++databases}`);
  const pool: pg.Pool = testPool(url, 2);
  await migratePostgres(pool, log);
  const relay = createPgRelayStore({ pool, nodeId: 'counting-node', leaseMs: 30_000, renewEveryMs: 0 });
  return {
    relay,
    close: async () => {
      relay.close();
      await pool.end();
    },
  };
});
