/**
 * The PostgreSQL store beside the SQLite store (issue 20): the same parsed ~1.2 KB messages inserted
 * by 10 concurrent callers into each (group commit), the bytes each keeps, and the time of a few
 * searches (a page of 50 with a bounded total, mean of 5). PostgreSQL is the test harness's server
 * (test/helpers/postgres.ts: a temporary cluster on loopback with fsync off), so its commits are
 * not durable against power loss here; SQLite runs with its defaults (synchronous=FULL).
 *
 *   tsx bench/store-pg.ts [--messages 5000]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { ALL_MAILBOXES } from '../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../src/mail/search-query.js';
import type { NewMessage } from '../src/mail/types.js';
import { openPostgresStore } from '../src/store/pg/message-store.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { MessageStore } from '../src/store/types.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { searchMessage } from '../test/helpers/search-corpus.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '5000' } } });
const count = Number(values.messages);
const log = pino({ level: 'silent' });
const WORDS = 'alpha beta gamma delta invoice confirm order shipped account reset password weekly digest report build failed passed deploy'.split(' ');
const SEARCHES = ['invoice', 'confirm order', '"build failed"', 'to:user42@', 'subject:order', '注文', '-invoice'];

let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const text = () => Array.from({ length: 150 }, () => WORDS[Math.floor(random() * WORDS.length)]! + (random() < 0.1 ? String(Math.floor(random() * 1e6)) : '')).join(' ');
const messages: NewMessage[] = Array.from({ length: count }, (_, i) => {
  const body = text();
  const to = `user${i % 500}@example.test`;
  return { ...searchMessage(`Order ${i} ${WORDS[i % WORDS.length]}`, body, { to }), raw: Buffer.from(`Subject: Order ${i}\r\nTo: ${to}\r\n\r\n${body}\r\n`) };
});

async function ingest(store: MessageStore): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < messages.length) await store.insert(messages[next++]!);
    }),
  );
  return Math.round(messages.length / ((performance.now() - started) / 1000));
}

async function searchTimes(store: MessageStore): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const search of SEARCHES) {
    const started = performance.now();
    for (let i = 0; i < 5; i++) await store.list(ALL_MAILBOXES, { query: parseSearchQuery(search), limit: 50, boundedTotal: true });
    out[search] = Number(((performance.now() - started) / 5).toFixed(1));
  }
  return out;
}

const server = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'kotak-bench-pg-'));
try {
  const url = await server.createDatabase('bench');
  const pgStore = await openPostgresStore(url, { log });
  const pgRate = await ingest(pgStore);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('VACUUM ANALYZE');
  const tables = (
    await client.query<{ name: string; bytes: string }>(
      "SELECT relname AS name, pg_total_relation_size(oid) AS bytes FROM pg_class WHERE relname IN ('messages', 'message_bodies', 'message_raw') ORDER BY 1",
    )
  ).rows.map((r) => `${r.name} ${(Number(r.bytes) / 1e6).toFixed(1)} MB`);
  await client.end();
  const sqliteStore = await openSqliteStore(join(dir, 'bench.db'), { log });
  const sqliteRate = await ingest(sqliteStore);
  const [pgSearch, sqliteSearch] = [await searchTimes(pgStore), await searchTimes(sqliteStore)];
  await Promise.all([pgStore.close(), sqliteStore.close()]);
  const sqliteBytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const rawBytes = messages.reduce((n, m) => n + m.raw.length, 0);
  console.log(`${count} messages, ${(rawBytes / 1e6).toFixed(1)} MB raw, 10 concurrent inserts`);
  console.log(`PostgreSQL: ${pgRate} msg/s; ${tables.join(', ')}`);
  console.log(`SQLite:     ${sqliteRate} msg/s; ${(sqliteBytes / 1e6).toFixed(1)} MB (database, WAL)`);
  console.log('search (ms, PostgreSQL / SQLite):');
  for (const search of SEARCHES) console.log(`  ${search.padEnd(16)} ${pgSearch[search]} / ${sqliteSearch[search]}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await server.stop();
}
