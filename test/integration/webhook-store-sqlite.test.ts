/**
 * The webhook outbox contract (test/contract/webhook-store-contract.ts) against the SQLite store:
 * a database file in a temporary directory, opened again on it for the restart cases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { describeWebhookStoreContract, T } from '../contract/webhook-store-contract.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-webhooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let opened = 0;

describeWebhookStoreContract('SQLite, a database file', async () => {
  const path = join(dir, `store-${++opened}.db`);
  const openStore = () => openSqliteStore(path, { log, now: () => T });
  let store: SqliteStore = await openStore();
  return {
    get webhooks() {
      return store.webhooks;
    },
    get messages() {
      return store;
    },
    async restart() {
      await store.close();
      store = await openStore();
      return { webhooks: store.webhooks, messages: store };
    },
    async close() {
      await store.close();
      for (const suffix of ['', '-wal', '-shm', '.raw']) rmSync(`${path}${suffix}`, { recursive: true, force: true });
    },
  };
});
