/**
 * Pages by `start` over every mailbox skip their rows in the seq index (migration 013) instead of
 * the table: the pages must be exactly the slices of the whole list, newest first, with gaps left
 * by deletes and across mailboxes, through `list()` (the API) and `listAt()` (Mailpit's paging).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { searchMessage } from '../helpers/search-corpus.js';

describe('paging by start over every mailbox', () => {
  it('gives the slices of the whole list', async () => {
    const store = await openSqliteStore(':memory:', { log: pino({ level: 'silent' }) });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await store.insert({ ...searchMessage(`p${i}`, 'x'), mailbox: i % 3 === 0 ? 'other' : 'default' })).id);
      for (const i of [5, 6, 7, 30, 59]) await store.delete(ALL_MAILBOXES, ids[i]!);
      const everything = (await store.list(ALL_MAILBOXES, { query: parseSearchQuery(''), limit: 1000 })).messages.map((m) => m.subject);
      expect(everything).toHaveLength(55);
      expect(everything[0]).toBe('p58');
      for (const start of [1, 4, 10, 49, 53, 54, 55, 70]) {
        for (const limit of [1, 5, 20]) {
          const page = await store.list(ALL_MAILBOXES, { query: parseSearchQuery(''), limit, start });
          expect(page.messages.map((m) => m.subject), `list start ${start} limit ${limit}`).toEqual(everything.slice(start, start + limit));
          expect(page.nextCursor !== null, `more after start ${start} limit ${limit}`).toBe(start + limit < everything.length);
          expect(page.total).toBe(55);
          const at = await store.listAt(ALL_MAILBOXES, { query: parseSearchQuery(''), start, limit });
          expect(at.messages.map((m) => m.subject), `listAt start ${start} limit ${limit}`).toEqual(everything.slice(start, start + limit));
        }
      }
    } finally {
      await store.close();
    }
  });
});
