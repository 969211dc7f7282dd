/**
 * A free-text word is a prefix search (`confirm` finds `confirmation`), and FTS5 answers a prefix
 * query by merging the entries of every term with that prefix whole before it yields the first
 * row: at a million messages a common word's ~950,000 entries took 120–370 ms, for a page of 50.
 * The same terms OR-ed are read newest first and stop at the page's end (2 ms). So a driving word
 * is first expanded into the terms the index holds with its prefix, read from an `fts5vocab`
 * table over `message_fts`; the OR of them matches exactly what the prefix matches.
 */
import type { Connection } from './sqlite-driver.js';

/** Per connection (the temp schema): a vocabulary view of message_fts, one row per term. */
export const CREATE_FULL_TEXT_TERMS = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.message_fts_terms USING fts5vocab(main, 'message_fts', 'row')";

/**
 * Past this many terms the prefix query is left as it is. Reading the vocabulary counts each
 * term's entries, a part of what the merge reads, so a prefix with more terms pays that on top of
 * the merge: at a million messages a two-letter prefix with 312 terms took 1.2 s as a prefix query,
 * and 0.3 s for its vocabulary plus 0.05–0.09 s for the OR of its terms (bench/README.md).
 */
export const MAX_EXPANDED_TERMS = 512;

/**
 * Only words the tokenizer keeps as they are, lower-cased, are expanded: for ASCII letters and
 * digits unicode61 (remove_diacritics 2) is exactly `toLowerCase()`, so the vocabulary range is the
 * prefix's own. Any other word keeps the plain prefix query, which is always right.
 */
const PLAIN_TOKEN = /^[A-Za-z0-9]+$/;

/**
 * Above every term that starts with the prefix: terms are compared as UTF-8 bytes, and U+10FFFF
 * (F4 8F BF BF) is the largest character; unicode61 never puts it in a term (it is no letter).
 */
const AFTER_PREFIX = '\u{10FFFF}';

export function expandable(word: string): boolean {
  return PLAIN_TOKEN.test(word);
}

/**
 * The index's terms that start with `word` (lower-cased), at most MAX_EXPANDED_TERMS; null when
 * there are more (keep the prefix query). An empty list: no indexed term has the prefix.
 */
export async function termsWithPrefix(reader: Connection, word: string): Promise<string[] | null> {
  const prefix = word.toLowerCase();
  const rows = await reader.all<{ term: string }>('SELECT term FROM temp.message_fts_terms WHERE term >= ? AND term < ? LIMIT ?', [
    prefix,
    prefix + AFTER_PREFIX,
    MAX_EXPANDED_TERMS + 1,
  ]);
  return rows.length > MAX_EXPANDED_TERMS ? null : rows.map((row) => row.term);
}
