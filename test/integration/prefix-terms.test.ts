/**
 * A free-text word is a prefix search; the store answers a driving word with the OR of the index's
 * terms that start with it (store/prefix-terms.ts) instead of FTS5's prefix query, which merges
 * every matching entry whole. Differential test: every answer equals what the prefix means,
 * computed here from the words themselves, for prefixes with one term, a few, more than the
 * expansion takes (the prefix query then answers), none, in capitals, with other terms, right after
 * new words arrive and after deletes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { MAX_EXPANDED_TERMS } from '../../src/store/prefix-terms.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { seededRandom } from '../helpers/random.js';
import { searchMessage } from '../helpers/search-corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-prefix-terms-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Syllables that occur nowhere else in a stored message (addresses, names, the envelope).
const SYLLABLES = ['zo', 'qu', 'xi', 'vy', 'ju', 'wo'];
const next = seededRandom(2026);
const word = (): string => Array.from({ length: 1 + Math.floor(next() * 4) }, () => SYLLABLES[Math.floor(next() * SYLLABLES.length)]).join('');

/** What a prefix search means: a message matches when any of its words starts with every query word's prefix (ASCII, case-folded). */
function expected(texts: ReadonlyMap<string, string>, words: readonly string[], without: readonly string[] = []): string[] {
  const starts = (text: string, prefix: string) => text.toLowerCase().split(/[^a-z0-9]+/).some((w) => w.startsWith(prefix.toLowerCase()));
  return [...texts]
    .filter(([, text]) => words.every((p) => starts(text, p)) && !without.some((p) => starts(text, p)))
    .map(([subject]) => subject)
    .sort();
}

async function search(store: SqliteStore, query: string): Promise<string[]> {
  const page = await store.list(ALL_MAILBOXES, { query: parseSearchQuery(query), limit: 1000, boundedTotal: true });
  return page.messages.map((m) => m.subject).sort();
}

describe('prefix words answered through the index terms', () => {
  it('match exactly what the prefix matches', async () => {
    const store = await openSqliteStore(join(dir, 'a.db'), { log: pino({ level: 'silent' }) });
    try {
      const texts = new Map<string, string>();
      const stored = new Map<string, string>();
      for (let i = 0; i < 300; i++) {
        const subject = `m${i} ${word()}`;
        const text = Array.from({ length: 6 }, word).join(' ');
        texts.set(subject, `${subject} ${text}`);
        stored.set(subject, (await store.insert(searchMessage(subject, text))).id);
      }
      // More distinct terms with one prefix than the expansion takes: the prefix query answers those.
      await Promise.all(
        Array.from({ length: MAX_EXPANDED_TERMS + 1 }, async (_, i) => {
          const subject = `many${i}`;
          texts.set(subject, `${subject} yuzo${i}x`);
          stored.set(subject, (await store.insert(searchMessage(subject, `yuzo${i}x`))).id);
        }),
      );
      const queries: [string[], string[]][] = [
        [['zo'], []], [['zoqu'], []], [['ZOQU'], []], [['zoquxi'], []], [['xivyjuwo'], []], [['wowowowo'], []], [['yuzo'], []], [['yuzo1'], []],
        [['yuzo51'], []], [['nothingwiththis'], []], [['zoqu', 'xi'], []], [['vy', 'ju'], []], [['zoqu'], ['xi']], [['m1'], []], [['m12'], []],
      ];
      const check = async () => {
        for (const [words, without] of queries) {
          const query = [...words, ...without.map((w) => `-${w}`)].join(' ');
          expect(await search(store, query), query).toEqual(expected(texts, words, without));
        }
      };
      await check();

      // New words are found by the very next search (the terms are read after the index caught up).
      for (const [subject, text] of [['late1', 'zoquzoquzoquzoqu'], ['late2', 'zoqunewterm'], ['late3', 'yuzonewterm']] as const) {
        texts.set(subject, `${subject} ${text}`);
        stored.set(subject, (await store.insert(searchMessage(subject, text))).id);
      }
      expect(await search(store, 'zoqunew')).toEqual(['late2']);
      await check();

      // Deleted messages leave terms behind in the vocabulary until merged away: they match nothing.
      const doomed = [...stored.keys()].filter((subject) => /^m\d*[05] /.test(subject) || subject === 'late2');
      for (const subject of doomed) await store.delete(ALL_MAILBOXES, stored.get(subject)!);
      for (const subject of doomed) texts.delete(subject);
      expect(await search(store, 'zoqunew')).toEqual([]);
      await check();
    } finally {
      await store.close();
    }
  });
});
