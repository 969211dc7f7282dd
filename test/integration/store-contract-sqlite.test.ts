/**
 * The store contract (test/contract/message-store-contract.ts) against the SQLite store: a
 * database file in a temporary directory (WAL, raw files for large messages), the same with most
 * messages' raw bytes in files, and `:memory:`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { describeFolderIndexContract } from '../contract/folder-index-contract.js';
import { describeMessageStoreContract } from '../contract/message-store-contract.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let opened = 0;

/** A database file; with `rawFileMinBytes`, messages that large keep their raw bytes in files beside it. */
function inFile(rawFileMinBytes?: number) {
  return async () => {
    const path = join(dir, `store-${++opened}.db`);
    const store = await openSqliteStore(path, { log, rawFileMinBytes });
    // The database, its WAL and shared-memory files, and the directory of large raw messages.
    const close = async () => {
      await store.close();
      for (const suffix of ['', '-wal', '-shm', '.raw']) rmSync(`${path}${suffix}`, { recursive: true, force: true });
    };
    return { store, close };
  };
}

describeMessageStoreContract('SQLite, a database file', inFile());

// The larger corpus messages and the write tests' 300 KB one are then files: read, counted and deleted as rows are.
describeMessageStoreContract('SQLite, raw bytes of 1 KB and more in files', inFile(1024));

describeMessageStoreContract('SQLite, :memory:', async () => {
  const store = await openSqliteStore(':memory:', { log });
  return { store, close: () => store.close() };
});

describeFolderIndexContract('SQLite, a database file', inFile());

describeFolderIndexContract('SQLite, :memory:', async () => {
  const store = await openSqliteStore(':memory:', { log });
  return { store, close: () => store.close() };
});
