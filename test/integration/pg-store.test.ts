/**
 * The PostgreSQL store's writes: group commit (inserts arriving while a batch commits join the
 * next one, each resolving after the COMMIT holding it), spooled messages read from their file
 * into the database, one bad message failing alone, two nodes on one database, and close().
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { EMPTY_QUERY, parseSearchQuery } from '../../src/mail/search-query.js';
import { openPostgresStore } from '../../src/store/pg/message-store.js';
import { searchMessage } from '../helpers/search-corpus.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });

describe('the PostgreSQL store', () => {
  let server: RunningPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('group-commits concurrent inserts and resolves each only once its row is committed', async () => {
    const url = await server.createDatabase('group_commit');
    const store = await openPostgresStore(url, { log });
    const observer = new pg.Client({ connectionString: url });
    await observer.connect();
    try {
      const visibleAtResolve: boolean[] = [];
      const messages = Array.from({ length: 60 }, (_, i) => searchMessage(`group ${i}`, 'body'));
      await Promise.all(
        messages.map((m) =>
          store.insert(m).then(async (summary) => {
            // Another connection sees the row as soon as the insert resolves: it was committed first.
            const rows = await observer.query('SELECT 1 FROM messages WHERE id = $1', [summary.id]);
            visibleAtResolve.push(rows.rowCount === 1);
          }),
        ),
      );
      expect(visibleAtResolve).toEqual(messages.map(() => true));
      // Rows inserted by one transaction share its xmin: 60 messages took far fewer commits.
      const { rows } = await observer.query<{ commits: number }>('SELECT COUNT(DISTINCT xmin::text)::int AS commits FROM messages');
      expect(rows[0]!.commits).toBeLessThan(30);
      const page = await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 100 });
      expect(page.messages.map((m) => m.subject)).toEqual(messages.map((m) => m.parsed.ok && m.parsed.message.subject).reverse());
      expect(page.total).toBe(60);
    } finally {
      await observer.end();
      await store.close();
    }
  });

  it('stores a spooled message from its file, so the spool file can go', async () => {
    const url = await server.createDatabase('spooled');
    const store = await openPostgresStore(url, { log });
    const dir = mkdtempSync(join(tmpdir(), 'kotak-pgspool-'));
    try {
      const bytes = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(3 * 1024 * 1024, 'z'), Buffer.from([0, 255, 13, 10])]);
      const path = join(dir, 'message.eml');
      writeFileSync(path, bytes);
      const message = { ...searchMessage('big', 'zzz'), raw: Buffer.alloc(0), spooled: { path, size: bytes.length } };
      const summary = await store.insert(message);
      expect(summary.size).toBe(bytes.length);
      rmSync(path);
      expect((await store.getRaw(ALL_MAILBOXES, message.id))!.equals(bytes)).toBe(true);
      expect((await store.stats(ALL_MAILBOXES)).size).toBe(bytes.length);
      // Kept in parts of 1 MiB, read back whole.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      expect((await client.query('SELECT COUNT(*)::int AS parts FROM message_raw')).rows).toEqual([{ parts: 4 }]);
      await client.end();

      // In memory and larger than a part; empty; a spool file shorter than what was received.
      const large = { ...searchMessage('large', 'x'), raw: Buffer.concat([bytes, Buffer.from('tail')]) };
      const empty = { ...searchMessage('empty', 'x'), raw: Buffer.alloc(0) };
      const shortPath = join(dir, 'short.eml');
      writeFileSync(shortPath, 'Subject: short\r\n\r\n');
      const short = { ...searchMessage('short', 'x'), raw: Buffer.alloc(0), spooled: { path: shortPath, size: 1000 } };
      const outcomes = await Promise.allSettled([store.insert(large), store.insert(empty), store.insert(short)]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'storage_failed' });
      expect((await store.getRaw(ALL_MAILBOXES, large.id))!.equals(large.raw)).toBe(true);
      expect((await store.getRaw(ALL_MAILBOXES, empty.id))!.length).toBe(0);
      expect(await store.getRaw(ALL_MAILBOXES, short.id)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await store.close();
    }
  });

  it('fails a bad message alone: its batch neighbours are stored', async () => {
    const store = await openPostgresStore(await server.createDatabase('bad_row'), { log });
    try {
      const first = searchMessage('first', 'x');
      await store.insert(first);
      const batch = [searchMessage('a', 'x'), { ...searchMessage('duplicate', 'x'), id: first.id }, searchMessage('b', 'x')];
      const outcomes = await Promise.allSettled(batch.map((m) => store.insert(m)));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const page = await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 });
      expect(page.messages.map((m) => m.subject)).toEqual(['b', 'a', 'first']);
    } finally {
      await store.close();
    }
  });

  it('serves two nodes on one database: both see every message, newest first, in the same order', async () => {
    const url = await server.createDatabase('two_nodes');
    const [a, b] = await Promise.all([openPostgresStore(url, { log }), openPostgresStore(url, { log })]);
    try {
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).insert(searchMessage(`node ${i}`, 'shared'))));
      const fromA = await a.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 100 });
      const fromB = await b.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 100 });
      expect(fromA.total).toBe(40);
      expect(fromB).toEqual(fromA);
      expect(await a.mailboxCounts(ALL_MAILBOXES)).toEqual([{ name: 'default', total: 40, unread: 40, size: expect.any(Number) as number }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps mailbox counts true while two nodes read, delete and insert across mailboxes at once', async () => {
    const url = await server.createDatabase('busy_counts');
    const [a, b] = await Promise.all([openPostgresStore(url, { log }), openPostgresStore(url, { log })]);
    const boxes = ['b1', 'b2', 'b3', 'b4', 'b5'];
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => a.insert({ ...searchMessage(`busy ${i % 7}`, 'x'), mailbox: boxes[i % 5]! })));
      const work: Promise<unknown>[] = [];
      for (let round = 0; round < 6; round++) {
        work.push(a.deleteMatching(ALL_MAILBOXES, parseSearchQuery(`subject:"busy ${round}"`)));
        work.push(b.setReadMatching(ALL_MAILBOXES, parseSearchQuery(`subject:"busy ${6 - round}"`), round % 2 === 0));
        work.push(b.insert({ ...searchMessage(`late ${round}`, 'x'), mailbox: boxes[round % 5]! }));
        work.push(a.setRead(ALL_MAILBOXES, 'no-such-id', true));
      }
      await Promise.all(work);
      const check = new pg.Client({ connectionString: url });
      await check.connect();
      const counted = (
        await check.query(
          `SELECT mailbox AS name, COUNT(*)::int AS total, (COUNT(*) FILTER (WHERE NOT read))::int AS unread, SUM(size)::int AS size
             FROM messages GROUP BY mailbox ORDER BY mailbox`,
        )
      ).rows;
      await check.end();
      expect(await b.mailboxCounts(ALL_MAILBOXES)).toEqual(counted);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails inserts while the server is down and works again once it is back, on fresh connections', async () => {
    const store = await openPostgresStore(await server.createDatabase('restart'), { log, poolSize: 2 });
    try {
      await store.insert(searchMessage('before', 'x'));
      await server.pause();
      await expect(store.insert(searchMessage('while down', 'x'))).rejects.toThrow();
      await expect(store.ping()).rejects.toThrow();
      await server.resume();
      // Every connection of the pool was broken: none is handed out again.
      for (let i = 0; i < 4; i++) await store.insert(searchMessage(`after ${i}`, 'x'));
      const page = await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 });
      expect(page.messages.map((m) => m.subject)).toEqual(['after 3', 'after 2', 'after 1', 'after 0', 'before']);
    } finally {
      await store.close();
    }
  });

  it('finishes queued inserts on close and refuses new ones after', async () => {
    const url = await server.createDatabase('closing');
    const store = await openPostgresStore(url, { log });
    const inserts = Array.from({ length: 20 }, (_, i) => store.insert(searchMessage(`closing ${i}`, 'x')));
    await Promise.resolve();
    await store.close();
    expect((await Promise.allSettled(inserts)).every((o) => o.status === 'fulfilled')).toBe(true);
    await expect(store.insert(searchMessage('late', 'x'))).rejects.toMatchObject({ code: 'shutting_down' });
    const check = await openPostgresStore(url, { log });
    expect((await check.stats(ALL_MAILBOXES)).total).toBe(20);
    await check.close();
  });
});
