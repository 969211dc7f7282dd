/**
 * The PostgreSQL store's reads at scale (issue 20): N messages of ~600 bytes in 5 mailboxes, one a
 * second, inserted by 20 concurrent callers into the test harness's PostgreSQL (fsync off), then
 * ANALYZE (as autovacuum would), then the mean of 3 runs (after one warm-up) of each list, search
 * and count the API makes. For plans that read far more than a page.
 *
 *   tsx bench/store-pg-scale.ts [--messages 100000]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { ALL_MAILBOXES, onlyMailboxes } from '../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../src/mail/search-query.js';
import { openPostgresStore } from '../src/store/pg/message-store.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { searchMessage } from '../test/helpers/search-corpus.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' } } });
const count = Number(values.messages);
const WORDS = 'alpha beta gamma delta invoice confirm order shipped account reset password weekly digest report build failed passed deploy'.split(' ');
let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const text = () => Array.from({ length: 60 }, () => WORDS[Math.floor(random() * WORDS.length)]! + (random() < 0.1 ? String(Math.floor(random() * 1e6)) : '')).join(' ');
const q = (search: string) => parseSearchQuery(search);
const base = Date.UTC(2026, 0, 1);

const server = await startPostgres();
try {
  const url = await server.createDatabase('scale');
  const store = await openPostgresStore(url, { log: pino({ level: 'silent' }) });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < count) {
        const i = next++;
        const message = searchMessage(`Order ${i} ${WORDS[i % WORDS.length]}`, text(), { to: `user${i % 500}@example.test` });
        await store.insert({ ...message, mailbox: `mb${i % 5}`, receivedAt: base + i * 1000 });
      }
    }),
  );
  console.log(`${count} messages inserted: ${Math.round(count / ((performance.now() - started) / 1000))} msg/s`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('ANALYZE');
  await client.end();

  const time = async (label: string, read: () => Promise<unknown>) => {
    await read();
    const t = performance.now();
    for (let i = 0; i < 3; i++) await read();
    console.log(`  ${label.padEnd(52)} ${((performance.now() - t) / 3).toFixed(1)} ms`);
  };
  const first = await store.list(ALL_MAILBOXES, { query: q(''), limit: 50 });
  await time('newest page', () => store.list(ALL_MAILBOXES, { query: q(''), limit: 50 }));
  await time('newest page of mb1', () => store.list(onlyMailboxes(['mb1']), { query: q(''), limit: 50 }));
  await time('newest page of mb1 and mb2', () => store.list(onlyMailboxes(['mb1', 'mb2']), { query: q(''), limit: 50 }));
  await time('next page by cursor', () => store.list(ALL_MAILBOXES, { query: q(''), limit: 50, cursor: first.nextCursor }));
  await time('page at start 50000', () => store.list(ALL_MAILBOXES, { query: q(''), limit: 50, start: 50_000 }));
  for (const search of ['invoice', 'invoice deploy', '"build failed"', 'zebra', 'subject:"order 5"', 'to:user42@', '-invoice', 'is:unread', 'before:2026-01-01T01:00:00Z', 'after:2026-01-02', 'larger:1kb', 'has:attachment', '注文', 'mailbox:mb3 invoice']) {
    await time(`page of ${search} (bounded total)`, () => store.list(ALL_MAILBOXES, { query: q(search), limit: 50, boundedTotal: true }));
  }
  await time('listAt invoice, start 1000', () => store.listAt(ALL_MAILBOXES, { query: q('invoice'), start: 1000, limit: 50 }));
  await time('find invoice since the last 10 s', () => store.find(ALL_MAILBOXES, { query: q('invoice'), since: base + (count - 10) * 1000, limit: 100 }));
  await time('mailboxCounts', () => store.mailboxCounts(ALL_MAILBOXES));
  await store.close();
} finally {
  await server.stop();
}
