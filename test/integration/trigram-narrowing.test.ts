/**
 * A driving field value is looked up by its most selective part (store/trigram-narrowing.ts):
 * enough messages here that `use` and `ser` of `user…@` are common (past a probe's cap of 2,000), so
 * the part chosen is around the value's rare trigrams; the answers must stay exactly the LIKE scan's
 * (find() scans, list() reads the index), for values whose every trigram is common too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { openConnection } from '../../src/store/sqlite-driver.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { selectivePart } from '../../src/store/trigram-narrowing.js';
import { eventually } from '../helpers/browser.js';
import { searchMessage } from '../helpers/search-corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-trigram-narrowing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('field values looked up by their most selective part', () => {
  it('answer exactly what the scan answers', async () => {
    const file = join(dir, 'a.db');
    const store = await openSqliteStore(file, { log: pino({ level: 'silent' }), syncCommits: false });
    try {
      // The probes' cap is lowered below this many for the direct checks; the store's own is higher.
      const cap = 2_000;
      const count = cap + 300;
      await Promise.all(Array.from({ length: count }, (_, i) => store.insert(searchMessage(`Receipt number ${i} of the month`, 'body', { to: `user${i}@team.example` }))));
      await eventually(() => store.fullTextBacklog()).toBe(0);

      const db = await openConnection(file, { exclusive: true });
      try {
        const match = (part: string) => `{to_search} : "${part}"`;
        // `use`, `ser`, `er1` are common here; `123`, `23@` are not.
        expect(await selectivePart(db, { value: 'user123@', match }, cap)).toMatch(/^(r123|123@)$/);
        // Every trigram common: the whole value is looked up.
        expect(await selectivePart(db, { value: '@team.example', match }, cap)).toBeNull();
        // Short values are looked up whole.
        expect(await selectivePart(db, { value: '123@', match }, cap)).toBeNull();
      } finally {
        await db.close();
      }

      for (const text of ['to:user123@', 'to:user2199@', 'to:USER7@TEAM', 'to:user23', 'to:@team.example', 'to:ser1', 'subject:"number 1234 of"', 'subject:"r 99 of the"', 'to:user123@ subject:receipt', 'to:user12 -subject:"number 120 "']) {
        const query = parseSearchQuery(text);
        const indexed = (await store.list(ALL_MAILBOXES, { query, limit: 5000 })).messages.map((m) => m.subject).sort();
        const scanned = (await store.find(ALL_MAILBOXES, { query, limit: 5000 })).map((m) => m.subject).sort();
        expect(indexed, text).toEqual(scanned);
        expect(indexed.length, text).toBeGreaterThan(0);
      }
    } finally {
      await store.close();
    }
  });
});
