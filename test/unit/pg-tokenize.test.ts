/**
 * The PostgreSQL store's word search splits and folds text exactly as SQLite's FTS5
 * `unicode61 remove_diacritics 2` does (src/store/pg/tokenize.ts), checked against SQLite itself.
 */
import { describe, expect, it } from 'vitest';
import { unicode61Tokens } from '../../src/store/pg/tokenize.js';
import { openConnection } from '../../src/store/sqlite-driver.js';
import { probeUnicode61 } from '../helpers/unicode61-probe.js';

/** What FTS5 makes of each text: its tokens in order. */
async function sqliteTokens(texts: readonly string[]): Promise<string[][]> {
  const db = await openConnection(':memory:');
  try {
    await db.exec("CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'unicode61 remove_diacritics 2'); CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');");
    for (let i = 0; i < texts.length; i++) await db.run('INSERT INTO t (rowid, x) VALUES (?, ?)', [i + 1, texts[i]]);
    const out: string[][] = texts.map(() => []);
    for (const row of await db.all<{ term: string; doc: number }>('SELECT term, doc FROM v ORDER BY doc, offset')) out[row.doc - 1]!.push(row.term);
    return out;
  } finally {
    await db.close();
  }
}

describe('unicode61 tokens in JavaScript', () => {
  it('treat every code point of the Basic Multilingual Plane and a sample of the others as SQLite does', async () => {
    const codes: number[] = [];
    for (let c = 0; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) codes.push(c);
    for (let c = 0x10000; c <= 0x10ffff; c += 97) codes.push(c);
    const probed = await probeUnicode61(codes);
    const wrong: string[] = [];
    for (const c of codes) {
      const expected = probed.get(c);
      const tokens = unicode61Tokens(`x${String.fromCodePoint(c)}x`);
      const actual = tokens.length === 2 ? null : tokens[0]!.slice(1, -1);
      if (actual !== expected) wrong.push(`U+${c.toString(16)}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
    }
    expect(wrong.slice(0, 20)).toEqual([]);
  }, 120_000);

  it('split mixed texts, diacritics alone, lone surrogates and NULs as SQLite does', async () => {
    const pool = ['a', 'Z', '9', ' ', '@', '.', '-', '\0', '\u0301', 'É', 'ß', 'İ', 'ı', '注', 'ไ', '\ud800', '\udc00', '😀', '\u00a0', '_', "'", 'Ω', '\u200b', '\ue000'];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const texts = ['', '\u0301', 'a\u0301', '\u0301a', 'user@Example.COM', 'Straße ÉCOLE İstanbul', 'a\0b', '注文確認 です'];
    for (let i = 0; i < 400; i++) texts.push(Array.from({ length: 1 + Math.floor(random() * 12) }, () => pool[Math.floor(random() * pool.length)]).join(''));
    const expected = await sqliteTokens(texts);
    expect(texts.map((text) => unicode61Tokens(text))).toEqual(expected);
  });
});
