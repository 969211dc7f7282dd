/**
 * The store contract (test/contract/message-store-contract.ts) against the PostgreSQL store
 * (issue 20): a real server that the harness starts (test/helpers/postgres.ts), a fresh database
 * for every store the suite opens, schema from the store's own migrations.
 */
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { openPostgresStore } from '../../src/store/pg/message-store.js';
import { describeFolderIndexContract } from '../contract/folder-index-contract.js';
import { describeMessageStoreContract } from '../contract/message-store-contract.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });
let server: RunningPostgres;
let opened = 0;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function freshStore() {
  const url = await server.createDatabase(`contract_${++opened}`);
  const store = await openPostgresStore(url, { log });
  return { store, close: () => store.close() };
}

describeMessageStoreContract('PostgreSQL', freshStore);

describeFolderIndexContract('PostgreSQL', freshStore);
