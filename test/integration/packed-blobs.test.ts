/**
 * Raw bytes and body texts stored compressed (issue 19, migration 011, store/blob-codec.ts): they
 * read back exactly; databases written before keep reading, searching and deleting with new rows
 * beside the old; and the substring search, which now reads packed bodies in JavaScript, answers
 * exactly as SQL's LIKE over the plain texts did, combined with every other part of a query.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseMessage } from '../../src/mail/parse.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import type { NewMessage } from '../../src/mail/types.js';
import { newMessageId } from '../../src/mail/id.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { eventually } from '../helpers/browser.js';
import { indexUpTo, insertAsBefore011, openAtSchema } from '../helpers/older-schema.js';
import { seededRandom } from '../helpers/random.js';
import { copyOf, searchMessage as message } from '../helpers/search-corpus.js';
import { peek } from '../helpers/database-file.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-packed-blobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;
const newPath = () => join(dir, `store-${++databases}.db`);

const CORPUS_DIR = new URL('../fixtures/corpus/', import.meta.url);
const corpusFiles = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.eml')).sort();

async function parsedMessage(raw: Buffer): Promise<NewMessage> {
  const receivedAt = Date.now();
  let parsed: NewMessage['parsed'];
  try {
    parsed = { ok: true, message: await parseMessage(raw) };
  } catch (err) {
    parsed = { ok: false, error: (err as Error).message };
  }
  return {
    id: newMessageId(receivedAt), mailbox: 'default', receivedAt, raw,
    envelope: { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    parsed,
  };
}


/** Filler long enough that the text is stored packed (blob-codec.ts packs from 512 characters). */
const FILLER = ' lorem ipsum dolor sit amet consectetur'.repeat(14);

/** Substring terms in every place the search reads, in texts and HTML long enough to be packed. */
const SUBSTRING_CORPUS: readonly NewMessage[] = [
  message('東京 in the subject', `nothing here${FILLER}`),
  message('CJK in the text', `ようこそ大阪へ。${FILLER}`),
  message('CJK at the end of the text', `${FILLER} 大阪`),
  message('CJK in the HTML', '', { html: `<p>京都へ<b>よう</b>こそ</p>${FILLER}` }),
  message('CJK in a file name', `see attached${FILLER}`, { attachment: '請求書-11月.pdf' }),
  message('Punctuation in the markup', `a plain sentence${FILLER}`, { html: `<a href="https://shop.test/?a=1&b=2">shop</a>${FILLER}` }),
  message('Punctuation in the text', `x == y, always${FILLER}`),
  message('Short punctuation text', 'a = b'),
  message('Emoji in the HTML', '', { html: `<p>Party 🎉 time</p>${FILLER}` }),
  message('Thai in the text', `สวัสดีครับ${FILLER}`),
  message('Upper-case Cyrillic', `ПРИВЕТ мир = ${FILLER}`),
  // LIKE folds the case of ASCII letters only: \`ä東\` does not find \`Ä東\`, \`x東\` finds \`X東\`.
  message('Upper-case before CJK', `Ä東 and X東${FILLER}`),
  message('Percent and underscore', `100% of snake_case ${FILLER}`),
  message('Nothing special', `plain words only${FILLER}`, { to: 'other@example.test' }),
  // Over 8 KiB: packed with the other codec (brotli).
  message('Long text', `${FILLER.repeat(20)} 名古屋 =`),
  { ...message('unparsed', ''), parsed: { ok: false, error: 'broken' } },
];
const SUBSTRING_QUERIES = [
  '東京', '大阪', '京都', 'ようこそ', '請求書', '11月', '=', '==', '🎉', 'สวัสดี', '/', '%', '_', 'Ä東', 'ä東', 'x東', 'X東', '名古屋',
  // Combined with other operators, negated, two at once.
  '-東京', '-=', '= -大阪', '大阪 subject:end', '= to:other', '= is:unread', '-= -大阪', '大阪 =', '= has:attachment', '= before:2000-01-01',
];

const subjects = async (store: SqliteStore, query: string): Promise<string[]> =>
  (await store.list(ALL_MAILBOXES, { query: parseSearchQuery(query), limit: 1000 })).messages.map((m) => m.subject);

/** Every way a caller reads a query's matches: a list, pages by start and by cursor, a bounded total, a find. */
async function everyReading(store: SqliteStore, query: string): Promise<unknown> {
  const parsed = parseSearchQuery(query);
  const all = await store.list(ALL_MAILBOXES, { query: parsed, limit: 1000 });
  const byStart = await store.list(ALL_MAILBOXES, { query: parsed, limit: 2, start: 1 });
  const firstPage = await store.list(ALL_MAILBOXES, { query: parsed, limit: 2 });
  const byCursor = firstPage.nextCursor ? await store.list(ALL_MAILBOXES, { query: parsed, limit: 2, cursor: firstPage.nextCursor }) : null;
  const bounded = await store.list(ALL_MAILBOXES, { query: parsed, limit: 1, boundedTotal: true });
  const found = await store.find(ALL_MAILBOXES, { query: parsed, since: null, limit: 1000 });
  const at = await store.listAt(ALL_MAILBOXES, { query: parsed, start: 1, limit: 2 });
  const names = (page: { messages: readonly { subject: string }[] }) => page.messages.map((m) => m.subject);
  return {
    all: names(all), total: all.total, byStart: names(byStart), byCursor: byCursor && names(byCursor),
    bounded: [bounded.total, bounded.totalIsLowerBound, names(bounded)], found: names({ messages: found }), at: [at.total, names(at)],
  };
}

async function readings(store: SqliteStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const query of SUBSTRING_QUERIES) out[query] = await everyReading(store, query);
  return out;
}

/** The same messages in a database written before migration 011 (plain), then migrated. */
async function migratedStore(messages: readonly NewMessage[], indexed: number): Promise<{ store: SqliteStore; path: string }> {
  const path = newPath();
  const db = await openAtSchema(path, 10, dir);
  for (const [i, m] of messages.entries()) await insertAsBefore011(db, i + 1, m);
  await indexUpTo(db, indexed);
  await db.close();
  return { store: await openSqliteStore(path, { log, syncCommits: false }), path };
}

describe('packed raw bytes and body texts', () => {
  it('read back byte for byte, text and HTML included, for every corpus message and for binary, 8-bit and NUL bytes', async () => {
    const path = newPath();
    const store = await openSqliteStore(path, { log, syncCommits: false });
    const binary = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256));
    const stored: { id: string; raw: Buffer; text: string | null; html: string | null; headers: unknown }[] = [];
    try {
      const inputs = [
        ...corpusFiles.map((f) => readFileSync(new URL(f, CORPUS_DIR))),
        binary,
        Buffer.concat([Buffer.from('Subject: nul\r\n\r\n'), Buffer.alloc(3000, 0), Buffer.from('\r\nend\r\n')]),
        Buffer.from(`Subject: 8bit\r\nContent-Type: text/plain; charset=latin1\r\n\r\n${'caf\xe9 \xff\x80 '.repeat(200)}\r\n`, 'latin1'),
        Buffer.alloc(0),
      ];
      for (const raw of inputs) {
        const m = await parsedMessage(raw);
        await store.insert(m);
        const parsed = m.parsed.ok ? m.parsed.message : null;
        stored.push({ id: m.id, raw, text: parsed?.text ?? null, html: parsed?.html ?? null, headers: parsed?.headers ?? [] });
      }
      for (const { id, raw, text, html, headers } of stored) {
        expect((await store.getRaw(ALL_MAILBOXES, id))!.equals(raw), id).toBe(true);
        const detail = (await store.get(ALL_MAILBOXES, id))!;
        expect([detail.text, detail.html, detail.headers]).toEqual([text, html, headers]);
      }
    } finally {
      await store.close();
    }
    // And they are stored compressed: nearly every corpus message, and no raw byte more than received.
    const rows = await peek(path, (db) => db.all<{ packed: number; stored: number; size: number }>('SELECT r.packed, length(r.raw) AS stored, m.size FROM message_raw r JOIN messages m ON m.seq = r.seq'));
    expect(rows.filter((r) => r.packed === 1).length).toBeGreaterThan(corpusFiles.length * 0.8);
    expect(rows.every((r) => r.stored <= r.size)).toBe(true);
    // Both codecs: deflate-raw (1) under 8 KiB, brotli (2) from there.
    const codecs = await peek(path, (db) => db.all<{ codec: string }>("SELECT DISTINCT hex(substr(raw, 1, 1)) AS codec FROM message_raw WHERE packed = 1 ORDER BY codec"));
    expect(codecs.map((c) => c.codec)).toEqual(['01', '02']);
    const packedTexts = await peek(path, async (db) => (await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM message_bodies WHERE typeof(text) = 'blob' OR typeof(html) = 'blob'"))!.n);
    expect(packedTexts).toBeGreaterThan(10);
    const packedHeaders = await peek(path, async (db) => (await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM message_bodies WHERE typeof(headers_json) = 'blob'"))!.n);
    expect(packedHeaders).toBeGreaterThan(corpusFiles.length / 2);
  });

  it('keep reading, searching and deleting a database written before migration 011, with new rows beside the old', async () => {
    // Schema 010 with the substring corpus: the first half indexed, the rest pending at the stop.
    const old = SUBSTRING_CORPUS.map(copyOf);
    const { store: migrated, path } = await migratedStore(old, Math.floor(old.length / 2));
    const fresh = await openSqliteStore(newPath(), { log, syncCommits: false });
    try {
      for (const m of SUBSTRING_CORPUS) await fresh.insert(copyOf(m));
      // Old rows read as they were stored.
      for (const m of old) {
        expect((await migrated.getRaw(ALL_MAILBOXES, m.id))!.equals(m.raw)).toBe(true);
        const parsed = m.parsed.ok ? m.parsed.message : null;
        const detail = (await migrated.get(ALL_MAILBOXES, m.id))!;
        expect([detail.text, detail.html]).toEqual([parsed?.text ?? null, parsed?.html ?? null]);
      }
      // Old (plain) rows answer every query as new (packed) rows do, words included.
      await eventually(() => migrated.fullTextBacklog()).toBe(0);
      expect(await readings(migrated)).toEqual(await readings(fresh));
      for (const word of ['lorem', 'nothing', 'shop', '"plain words"']) expect(await subjects(migrated, word)).toEqual(await subjects(fresh, word));

      // New rows beside the old: packed, found together with the old, deleted by query together.
      const added = [message('New CJK in the text', `新しい大阪${FILLER}`), message('New punctuation', `p = q${FILLER}`)];
      for (const m of added) await migrated.insert(m);
      for (const m of added) expect((await migrated.getRaw(ALL_MAILBOXES, m.id))!.equals(m.raw)).toBe(true);
      expect(await subjects(migrated, '大阪')).toEqual(['New CJK in the text', 'CJK at the end of the text', 'CJK in the text']);
      expect(await subjects(migrated, 'lorem 大阪')).toEqual(['New CJK in the text', 'CJK at the end of the text', 'CJK in the text']);
      expect((await migrated.deleteMatching(ALL_MAILBOXES, parseSearchQuery('大阪'))).length).toBe(3);
      expect(await subjects(migrated, '大阪')).toEqual([]);
      expect(await subjects(migrated, '=')).toEqual(['New punctuation', 'Long text', 'Upper-case Cyrillic', 'Short punctuation text', 'Punctuation in the text']);
      const unread = await migrated.setReadMatching(ALL_MAILBOXES, parseSearchQuery('='), true);
      expect(unread.get('default')).toBe(5);
      expect(await subjects(migrated, '= is:unread')).toEqual([]);
    } finally {
      await fresh.close();
      await migrated.close();
    }
    const kinds = await peek(path, (db) => db.all<{ packed: number; n: number }>('SELECT packed, COUNT(*) AS n FROM message_raw GROUP BY packed ORDER BY packed'));
    // The old rows were not rewritten; the new one left (the other was deleted by query) is packed.
    expect(kinds).toEqual([{ packed: 0, n: old.length - 2 }, { packed: 1, n: 1 }]);
  });

  it('answer substring searches as LIKE over the plain texts did: alone, combined, negated, paged, counted and deleted by', async () => {
    // Differential: the same messages, plain (written before migration 011) and packed (written now).
    const { store: plain } = await migratedStore(SUBSTRING_CORPUS.map(copyOf), SUBSTRING_CORPUS.length);
    const packedPath = newPath();
    const packed = await openSqliteStore(packedPath, { log, syncCommits: false });
    try {
      for (const m of SUBSTRING_CORPUS) await packed.insert(copyOf(m));
      // Every text and HTML of the filler's length is packed there (the short one is not).
      const kinds = await peek(packedPath, (db) =>
        db.all<{ kind: string; n: number }>("SELECT typeof(text) || '/' || typeof(html) AS kind, COUNT(*) AS n FROM message_bodies GROUP BY kind ORDER BY kind"),
      );
      expect(kinds).toEqual([{ kind: 'blob/blob', n: 1 }, { kind: 'blob/null', n: 11 }, { kind: 'null/null', n: 1 }, { kind: 'text/blob', n: 2 }, { kind: 'text/null', n: 1 }]);
      const expected = await readings(plain);
      expect(await readings(packed)).toEqual(expected);
      // What the plain texts answer, spelled out for a few.
      expect((expected['大阪'] as { all: string[] }).all).toEqual(['CJK at the end of the text', 'CJK in the text']);
      expect((expected['='] as { all: string[] }).all).toEqual(['Long text', 'Upper-case Cyrillic', 'Short punctuation text', 'Punctuation in the text']);
      expect((expected['名古屋'] as { all: string[] }).all).toEqual(['Long text']);
      expect([(expected['ä東'] as { all: string[] }).all, (expected['x東'] as { all: string[] }).all]).toEqual([[], ['Upper-case before CJK']]);
      expect((expected['%'] as { all: string[] }).all).toEqual(['Percent and underscore']);
      for (const query of ['= -大阪', '大阪']) {
        const [a, b] = [await plain.deleteMatching(ALL_MAILBOXES, parseSearchQuery(query)), await packed.deleteMatching(ALL_MAILBOXES, parseSearchQuery(query))];
        expect(b.length).toBe(a.length);
        expect(await readings(packed)).toEqual(await readings(plain));
      }
    } finally {
      await plain.close();
      await packed.close();
    }
  });

  it('find substrings in large packed texts, which the scan reads in runs of at most 8 MB', async () => {
    // Three texts of 5 MB that compress poorly (random letters, ~0.6): over 8 MB packed together.
    const random = seededRandom(11);
    const large = (marker: string) => {
      const letters: string[] = [];
      for (let i = 0; i < 5_000_000; i++) letters.push(String.fromCharCode(0x61 + Math.floor(random() * 26)));
      const text = letters.join('');
      return `${text.slice(0, 2_000_000)} ${marker} ${text.slice(2_000_000)}`;
    };
    const messages = [message('Large one', large('大阪')), message('Large two', large('=')), message('Small', `京都${FILLER}`), message('Large three', large('京都 ='))];
    const { store: plain } = await migratedStore(messages.map(copyOf), messages.length);
    const packedPath = newPath();
    const packed = await openSqliteStore(packedPath, { log, syncCommits: false });
    try {
      for (const m of messages) await packed.insert(copyOf(m));
      const packedBytes = await peek(packedPath, async (db) => (await db.get<{ n: number }>("SELECT SUM(length(text)) AS n FROM message_bodies WHERE typeof(text) = 'blob'"))!.n);
      expect(packedBytes).toBeGreaterThan(8 * 1024 * 1024);
      for (const query of ['大阪', '=', '京都', '= 京都', '-=']) expect(await subjects(packed, query), query).toEqual(await subjects(plain, query));
      expect(await subjects(packed, '=')).toEqual(['Large three', 'Large two']);
    } finally {
      await plain.close();
      await packed.close();
    }
  });
});
