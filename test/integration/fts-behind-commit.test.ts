/**
 * The full-text index is built behind the commit (issue 19, src/store/fts-indexer.ts). These
 * tests hold it to "nothing gets less correct": a search, list, wait or delete-by-query issued
 * right after an insert is acknowledged sees that message; queries answer the same whether the
 * messages were indexed in the background or by the catch-up a search starts; text left
 * unindexed by a stop is indexed at the next start; and a body is indexed up to its bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/mail/id.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { MAX_INDEXED_BODY_CHARS } from '../../src/store/fts-indexer.js';
import { openConnection } from '../../src/store/sqlite-driver.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { eventually } from '../helpers/browser.js';
import { CORPUS, QUERIES, searchMessage as message } from '../helpers/search-corpus.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-fts-behind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;
const newPath = () => join(dir, `store-${++databases}.db`);

const search = async (store: SqliteStore, query: string): Promise<string[]> =>
  (await store.list(ALL_MAILBOXES, { query: parseSearchQuery(query), limit: 1000 })).messages.map((m) => m.subject).sort();

describe('the full-text index behind the commit', () => {
  it('a search, find and delete-by-query right after each acknowledged insert see that message', async () => {
    const store = await openSqliteStore(newPath(), { log, syncCommits: false });
    try {
      for (let i = 0; i < 120; i++) {
        const word = `token${i}x`;
        const stored = await store.insert(message(`Message ${i}`, `the word ${word} is here`));
        // Straight after the acknowledgement, with the indexer's own pass not yet due.
        expect(await search(store, word)).toEqual([`Message ${i}`]);
        const found = await store.find(ALL_MAILBOXES, { query: parseSearchQuery(word), ids: [stored.id], limit: 10 });
        expect(found.map((m) => m.id)).toEqual([stored.id]);
      }
      const last = await store.insert(message('Delete me', 'the word ephemeralword is here'));
      const removed = await store.deleteMatching(ALL_MAILBOXES, parseSearchQuery('ephemeralword'));
      expect(removed.map((r) => r.id)).toEqual([last.id]);
    } finally {
      await store.close();
    }
  });

  it('a search that reads no index (substring terms, short field values) sees new mail without waiting for the indexer', async () => {
    // The indexer's own pass held off, so only a search's catch-up could index the message.
    const store = await openSqliteStore(newPath(), { log, syncCommits: false, indexDelayMs: 600_000 });
    try {
      // The pass every start makes, done: from here on only a catch-up indexes.
      await store.insert(message('First', 'first'));
      await eventually(() => store.fullTextBacklog()).toBe(0);
      await store.insert(message('東京からのお知らせ', 'x == y'));
      for (const query of ['東京', '==', 'subject:東京', 'to:de', '-東京']) await search(store, query);
      // Still pending: none of these caught the index up.
      expect(await store.fullTextBacklog()).toBe(1);
      expect(await search(store, '東京')).toEqual(['東京からのお知らせ']);
      expect(await search(store, '==')).toEqual(['東京からのお知らせ']);
      // A word reads the index: it catches it up first.
      expect(await search(store, 'y')).toEqual(['東京からのお知らせ']);
      expect(await store.fullTextBacklog()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('answers every query the same with the messages indexed in the background and with them caught up by the search', async () => {
    // Background: wait until the indexer has emptied its backlog, then ask.
    const background = await openSqliteStore(newPath(), { log, syncCommits: false });
    // Caught up: half indexed in the background, half still pending when the questions come.
    const mixed = await openSqliteStore(newPath(), { log, syncCommits: false });
    try {
      for (const m of CORPUS) await background.insert({ ...m, id: newMessageId() });
      await eventually(() => background.fullTextBacklog()).toBe(0);

      const half = CORPUS.length / 2;
      for (const m of CORPUS.slice(0, half)) await mixed.insert({ ...m, id: newMessageId() });
      await eventually(() => mixed.fullTextBacklog()).toBe(0);
      for (const m of CORPUS.slice(half)) await mixed.insert({ ...m, id: newMessageId() });
      expect(await mixed.fullTextBacklog()).toBeGreaterThan(0);

      const answers = async (store: SqliteStore) => Object.fromEntries(await Promise.all(QUERIES.map(async (q) => [q, await search(store, q)] as const)));
      const fromMixed = await answers(mixed);
      expect(fromMixed).toEqual(await answers(background));
      // And the answers are the right ones, not only equal.
      expect(fromMixed['confirm']).toEqual(['Confirm your account', 'Confirmation received']);
      expect(fromMixed['cafe']).toEqual(['Café opening']);
      expect(fromMixed['注文']).toEqual(['注文確認']);
      expect(fromMixed['invoice']).toEqual(['Invoice attached']);
      expect(fromMixed['"fox brown"']).toEqual([]);
      expect(fromMixed['4242']).toEqual(['Order shipped', '注文確認']);
      expect(fromMixed['besuchen']).toEqual(['Café opening']);
      expect(fromMixed['htmlonly']).toEqual(['HTML only']);
    } finally {
      await background.close();
      await mixed.close();
    }
  });

  it('indexes at the next start what a stop left unindexed', async () => {
    const path = newPath();
    const first = await openSqliteStore(path, { log, syncCommits: false });
    for (let i = 0; i < 50; i++) await first.insert(message(`Left ${i}`, `leftover${i} text`));
    // Closed at once: the indexer's pass, 50 ms behind the commits, never ran.
    await first.close();
    const peek = await openConnection(path, {});
    const pending = (await peek.get<{ n: number }>('SELECT COUNT(*) AS n FROM message_fts_pending'))!.n;
    await peek.close();
    expect(pending).toBeGreaterThan(0);

    const second = await openSqliteStore(path, { log, syncCommits: false });
    try {
      // The indexer catches up on its own, without a search asking it to.
      await eventually(() => second.fullTextBacklog()).toBe(0);
      expect(await search(second, 'leftover7')).toEqual(['Left 7']);
      expect((await second.list(ALL_MAILBOXES, { query: parseSearchQuery('text'), limit: 100 })).total).toBe(50);
    } finally {
      await second.close();
    }
  });

  it(`indexes a body up to its first ${MAX_INDEXED_BODY_CHARS} characters and keeps the whole text`, async () => {
    const store = await openSqliteStore(newPath(), { log, syncCommits: false });
    try {
      const filler = 'lorem ipsum dolor '.repeat(Math.ceil(MAX_INDEXED_BODY_CHARS / 18));
      const text = `openingword ${filler} beyondthebound`;
      const stored = await store.insert(message('Huge log', text));
      expect(await search(store, 'openingword')).toEqual(['Huge log']);
      expect(await search(store, 'beyondthebound')).toEqual([]);
      // The subject is always indexed, and the stored text is whole.
      expect(await search(store, 'huge')).toEqual(['Huge log']);
      expect((await store.get(ALL_MAILBOXES, stored.id))!.text).toBe(text);
      // The text comes first: an HTML part after a text at the bound is not indexed either.
      await store.insert(message('Text and HTML', `${filler} textend`, { html: '<p>htmlafterthebound</p>' }));
      expect(await search(store, 'htmlafterthebound')).toEqual([]);
      expect(await search(store, 'lorem')).toEqual(['Huge log', 'Text and HTML']);
    } finally {
      await store.close();
    }
  });

  it('empties the backlog with the store (clear) and with deleted messages', async () => {
    const store = await openSqliteStore(newPath(), { log, syncCommits: false });
    try {
      await store.insert(message('Kept', 'keepword'));
      const gone = await store.insert(message('Gone', 'goneword'));
      await store.delete(ALL_MAILBOXES, gone.id);
      expect(await search(store, 'goneword')).toEqual([]);
      expect(await search(store, 'keepword')).toEqual(['Kept']);
      await store.insert(message('Pending', 'pendingword'));
      await store.clear(ALL_MAILBOXES);
      expect(await store.fullTextBacklog()).toBe(0);
      expect(await search(store, 'pendingword')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
