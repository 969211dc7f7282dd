/**
 * Each text is stored once (issue 19, migration 009): the full-text index is contentless, so it
 * holds the index and no copy of the text; databases made before migrate with everything still
 * findable; and the substring search (scripts without spaces, terms without letters or digits),
 * which used to read the index's copy, reads the stored message instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import type { NewMessage } from '../../src/mail/types.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { eventually } from '../helpers/browser.js';
import { indexUpTo, insertAsBefore011, openAtSchema } from '../helpers/older-schema.js';
import { seededRandom } from '../helpers/random.js';
import { copyOf, CORPUS, QUERIES, searchMessage as message } from '../helpers/search-corpus.js';
import { peek } from '../helpers/database-file.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-fts-contentless-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;
const newPath = () => join(dir, `store-${++databases}.db`);

const search = async (store: SqliteStore, query: string): Promise<string[]> =>
  (await store.list(ALL_MAILBOXES, { query: parseSearchQuery(query), limit: 1000 })).messages.map((m) => m.subject).sort();

const answers = async (store: SqliteStore, queries: readonly string[]): Promise<Record<string, string[]>> =>
  Object.fromEntries(await Promise.all(queries.map(async (q) => [q, await search(store, q)] as const)));


const pageCount = (path: string) => peek(path, async (db) => (await db.get<{ n: number }>('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()'))!.n);

const withSender = (m: NewMessage, mailFrom: string): NewMessage => ({ ...m, envelope: { ...m.envelope, mailFrom } });

/** Messages the substring search must find (or not) in each place it reads. */
const SUBSTRING_CORPUS: readonly NewMessage[] = [
  message('東京 in the subject', 'nothing here'),
  message('CJK in the text', 'ようこそ大阪へ。'),
  message('CJK in the HTML', '', { html: '<p>京都へ<b>よう</b>こそ</p>' }),
  message('CJK in a file name', 'see attached', { attachment: '請求書-11月.pdf' }),
  message('CJK in a display name', 'hello', { fromName: '山田太郎' }),
  message('Punctuation in the markup', 'a plain sentence', { html: '<a href="https://shop.test/?a=1&b=2">shop</a>' }),
  message('Punctuation in the text', 'x == y, always'),
  message('Emoji in the HTML', '', { html: '<p>Party 🎉 time</p>' }),
  message('Thai in the text', 'สวัสดีครับ'),
  // The envelope sender (a bounce address), which no header names.
  withSender(message('CJK in the envelope sender', 'hello'), '営業+~bounce@example.jp'),
  // A message that could not be parsed has no subject, text, HTML or attachments: only a negated
  // term matches it.
  { ...message('unparsed', ''), parsed: { ok: false, error: 'broken' } },
];
const SUBSTRING_QUERIES = ['東京', '大阪', '京都', 'ようこそ', '請求書', '11月', '山田', '=', '==', '🎉', 'สวัสดี', '/', '-東京', '-=', '営業', '+~'];

describe('the contentless full-text index', () => {
  it('holds no copy of the text, and a large text grows the database once', async () => {
    // Five texts of ~200 KB, of words from a vocabulary (as real text: an index smaller than the text).
    const random = seededRandom(19);
    const vocabulary = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}${'abcdefgh'.slice(0, 1 + (i % 8))}`);
    const texts = Array.from({ length: 5 }, () => {
      const words: string[] = [];
      for (let length = 0; length < 200_000; length += words.at(-1)!.length + 1) words.push(vocabulary[Math.floor(random() * vocabulary.length)]!);
      return words.join(' ');
    });
    const textChars = texts.reduce((sum, t) => sum + t.length, 0);
    // The raw bytes go to files (as they do from 256 KB by default): the file holds the rest.
    const fill = async (path: string, bodies: readonly string[]) => {
      const store = await openSqliteStore(path, { log, syncCommits: false, rawFileMinBytes: 1024 });
      try {
        for (const [i, text] of bodies.entries()) await store.insert(message(`Large ${i}`, text));
        await eventually(() => store.fullTextBacklog()).toBe(0);
        expect(await search(store, vocabulary[7]!)).toHaveLength(bodies.filter((t) => t.includes(vocabulary[7]!)).length);
      } finally {
        await store.close();
      }
    };
    const small = newPath();
    const large = newPath();
    await fill(small, texts.map(() => 'short'));
    await fill(large, texts);

    // The text once in message_bodies, plus the index: well under twice the text (with FTS5's
    // own copy it was over twice).
    const grown = (await pageCount(large)) - (await pageCount(small));
    expect(grown).toBeGreaterThan(textChars);
    expect(grown).toBeLessThan(1.5 * textChars);
    const tables = await peek(large, async (db) => (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE name LIKE 'message_fts%'")).map((r) => r.name));
    expect(tables).not.toContain('message_fts_content');
    expect(await peek(large, (db) => db.all('SELECT subject, addresses, body, attachments FROM message_fts'))).toEqual(
      texts.map(() => ({ subject: null, addresses: null, body: null, attachments: null })),
    );
  });

  it('is rebuilt from the index of a database made at schema 008, indexed and pending rows alike', async () => {
    // Migrations 001–008 only: the store as it was before this one, with its contentful index,
    // filled as the builds of then filled it (the store of today writes schema 011).
    const queries = [...QUERIES, ...SUBSTRING_QUERIES];
    const path = newPath();
    const db = await openAtSchema(path, 8, dir);
    for (const [i, m] of CORPUS.entries()) await insertAsBefore011(db, i + 1, copyOf(m));
    // The indexer of then indexed these; the others were still pending when it stopped.
    await indexUpTo(db, CORPUS.length);
    for (const [i, m] of SUBSTRING_CORPUS.entries()) await insertAsBefore011(db, CORPUS.length + i + 1, copyOf(m));
    await db.close();
    expect(await peek(path, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM message_fts_pending'))!.n)).toBeGreaterThan(0);
    expect(await peek(path, async (db) => (await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'message_fts_content'"))!.n)).toBe(1);

    const fresh = await openSqliteStore(newPath(), { log, syncCommits: false });
    const migrated = await openSqliteStore(path, { log, syncCommits: false });
    try {
      for (const m of [...CORPUS, ...SUBSTRING_CORPUS]) await fresh.insert(copyOf(m));
      const afterMigration = await answers(migrated, queries);
      // As a store made at the new schema answers, and as the old one answered for what it held.
      expect(afterMigration).toEqual(await answers(fresh, queries));
      expect(afterMigration['confirm']).toEqual(['Confirm your account', 'Confirmation received']);
      expect(afterMigration['htmlonly']).toEqual(['HTML only']);
      expect(afterMigration['invoice']).toEqual(['Invoice attached']);
      expect(afterMigration['大阪']).toEqual(['CJK in the text']);
      expect(await migrated.fullTextBacklog()).toBe(0);
      // The migrated index keeps working: deletes and new messages.
      const gone = (await migrated.list(ALL_MAILBOXES, { query: parseSearchQuery('subject:"Weekly digest"'), limit: 1 })).messages[0]!;
      await migrated.delete(ALL_MAILBOXES, gone.id);
      expect(await search(migrated, 'fox')).toEqual([]);
      await migrated.insert(message('After the migration', 'a quick fox again'));
      expect(await search(migrated, 'fox')).toEqual(['After the migration']);
    } finally {
      await fresh.close();
      await migrated.close();
    }
    expect(await peek(path, async (db) => (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE name LIKE 'message_fts%' ORDER BY name")).map((r) => r.name))).toEqual([
      'message_fts', 'message_fts_config', 'message_fts_data', 'message_fts_docsize', 'message_fts_idx', 'message_fts_pending', 'message_fts_pending_indexed',
    ]);
  });

  it('loses the entries of deleted messages: by id, by query and all at once, before seqs are used again', async () => {
    const path = newPath();
    const matches = (word: string) => peek(path, async (db) => (await db.all<{ rowid: number }>('SELECT rowid FROM message_fts WHERE message_fts MATCH ?', [word])).length);
    let store = await openSqliteStore(path, { log, syncCommits: false });
    const first = await store.insert(message('One', 'alphaword'));
    await store.insert(message('Two', 'betaword'));
    await store.insert(message('Three', 'gammaword'));
    expect(await search(store, 'alphaword')).toEqual(['One']);
    await store.delete(ALL_MAILBOXES, first.id);
    expect((await store.deleteMatching(ALL_MAILBOXES, parseSearchQuery('betaword'))).length).toBe(1);
    await store.close();
    expect([await matches('alphaword'), await matches('betaword'), await matches('gammaword')]).toEqual([0, 0, 1]);

    store = await openSqliteStore(path, { log, syncCommits: false });
    await store.clear(ALL_MAILBOXES);
    await store.close();
    expect(await matches('gammaword')).toBe(0);
    // Emptied, the store numbers its messages from 1 again: nothing old may answer for them.
    store = await openSqliteStore(path, { log, syncCommits: false });
    try {
      for (const subject of ['Four', 'Five', 'Six']) await store.insert(message(subject, 'deltaword'));
      expect(await search(store, 'gammaword')).toEqual([]);
      expect(await search(store, 'deltaword')).toEqual(['Five', 'Four', 'Six']);
    } finally {
      await store.close();
    }
  });

  it('finds substrings in the subject, the addresses, the text, the HTML and the file names, and never in markup or deleted messages', async () => {
    const store = await openSqliteStore(newPath(), { log, syncCommits: false });
    try {
      for (const m of SUBSTRING_CORPUS) await store.insert(copyOf(m));
      const all = await search(store, '');
      const found = await answers(store, SUBSTRING_QUERIES);
      expect(found).toEqual({
        東京: ['東京 in the subject'],
        大阪: ['CJK in the text'],
        京都: ['CJK in the HTML'],
        // In the HTML's text and split by its markup (`<b>`): found in the text of the one, not in the other.
        ようこそ: ['CJK in the text'],
        請求書: ['CJK in a file name'],
        '11月': ['CJK in a file name'],
        山田: ['CJK in a display name'],
        // ASCII punctuation is looked for in the text, never in the markup.
        '=': ['Punctuation in the text'],
        '==': ['Punctuation in the text'],
        '🎉': ['Emoji in the HTML'],
        สวัสดี: ['Thai in the text'],
        // Neither the attachment's content type ("application/pdf") nor the list's JSON.
        '/': [],
        '-東京': all.filter((s) => s !== '東京 in the subject'),
        '-=': all.filter((s) => s !== 'Punctuation in the text'),
        営業: ['CJK in the envelope sender'],
        '+~': ['CJK in the envelope sender'],
      });
      // Deleted, one by id and some by query: never found again.
      const text = (await store.list(ALL_MAILBOXES, { query: parseSearchQuery('大阪'), limit: 1 })).messages[0]!;
      await store.delete(ALL_MAILBOXES, text.id);
      expect(await search(store, '大阪')).toEqual([]);
      expect((await store.deleteMatching(ALL_MAILBOXES, parseSearchQuery('請求書'))).length).toBe(1);
      expect(await search(store, '請求書')).toEqual([]);
      expect(await search(store, '11月')).toEqual([]);
      await store.clear(ALL_MAILBOXES);
      expect(await search(store, '=')).toEqual([]);
      expect(await search(store, '京都')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
