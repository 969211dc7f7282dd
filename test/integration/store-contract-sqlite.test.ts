/**
 * The store contract (test/contract/message-store-contract.ts) against the SQLite store: a
 * database file in a temporary directory (WAL, raw files for large messages), and `:memory:`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { describeMessageStoreContract } from '../contract/message-store-contract.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let opened = 0;

describeMessageStoreContract('SQLite, a database file', async () => {
  const path = join(dir, `store-${++opened}.db`);
  const store = await openSqliteStore(path, { log });
  // The database, its WAL and shared-memory files, and the directory of large raw messages.
  const close = async () => {
    await store.close();
    for (const suffix of ['', '-wal', '-shm', '.raw']) rmSync(`${path}${suffix}`, { recursive: true, force: true });
  };
  return { store, close };
});

describeMessageStoreContract('SQLite, :memory:', async () => {
  const store = await openSqliteStore(':memory:', { log });
  return { store, close: () => store.close() };
});
