/**
 * What SQLite's FTS5 `unicode61 remove_diacritics 2` tokenizer (the one message_fts uses) does with
 * each code point, asked of SQLite itself: each probe is the document `x<c>x`, and its tokens say
 * whether <c> separates tokens (`x`, `x`), is dropped (`xx`: a diacritic it removes) or is kept as
 * what it folds to (`x<f>x`). Used to generate src/store/pg/unicode61-data.ts and to test it.
 */
import { openConnection } from '../../src/store/sqlite-driver.js';

/** What unicode61 makes of one code point: null separates tokens; a string is what it folds to ('' dropped). */
export type Probed = Map<number, string | null>;

const PROBES_PER_DOC = 4096;

export async function probeUnicode61(codePoints: readonly number[]): Promise<Probed> {
  const db = await openConnection(':memory:');
  try {
    await db.exec("CREATE VIRTUAL TABLE probe USING fts5 (t, tokenize = 'unicode61 remove_diacritics 2'); CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, 'instance');");
    const docs: number[][] = [];
    for (let i = 0; i < codePoints.length; i += PROBES_PER_DOC) docs.push(codePoints.slice(i, i + PROBES_PER_DOC) as number[]);
    await db.exec('BEGIN');
    for (let d = 0; d < docs.length; d++) {
      await db.run('INSERT INTO probe (rowid, t) VALUES (?, ?)', [d + 1, docs[d]!.map((c) => `x${String.fromCodePoint(c)}x`).join(' ')]);
    }
    await db.exec('COMMIT');
    const out: Probed = new Map();
    for (let d = 0; d < docs.length; d++) {
      const terms = (await db.all<{ term: string }>('SELECT term FROM probe_terms WHERE doc = ? ORDER BY offset', [d + 1])).map((r) => r.term);
      let at = 0;
      for (const c of docs[d]!) {
        const term = terms[at++]!;
        if (term === 'x') {
          out.set(c, null);
          at++; // the second `x`
        } else {
          out.set(c, term.slice(1, -1));
        }
      }
      if (at !== terms.length) throw new Error(`probe of document ${d} read ${at} of ${terms.length} terms`);
    }
    return out;
  } finally {
    await db.close();
  }
}

/** Every code point but the surrogates (which a JavaScript string cannot hold alone). */
export function allCodePoints(): number[] {
  const out: number[] = [];
  for (let c = 0; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) out.push(c);
  return out;
}
