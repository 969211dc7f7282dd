/**
 * The SQLite store's answer to `may-contain` terms (IMAP SEARCH's narrowing, store/may-match.ts):
 * most texts are stored packed (migration 011), which SQL cannot read, so the rows in question
 * (a folder, or the ids IMAP still has as candidates) are read here, a page at a time, unpacked,
 * and matched in JavaScript; the matching seqs go to the SQL (search-sql.ts's `narrowedSeqs`), which
 * applies every other term. Reading the stored texts costs a fraction of reading and parsing the
 * raw messages, which is what IMAP did for these keys before.
 */
import type { MayContainTerm } from '../mail/search-query.js';
import type { Header } from '../mail/types.js';
import { unpackText, type StoredText } from './blob-codec.js';
import { mayContainInBody, mayContainInHeader, type StoredTexts } from './may-match.js';
import type { SqlCondition } from './search-sql.js';
import type { Connection } from './sqlite-driver.js';

/** Rows read per statement: a stored text is at most a few hundred KB (larger ones are cut), so a page stays a few MB at most. */
const SCAN_PAGE = 64;

interface ScanRow {
  seq: number;
  failed: number;
  text: StoredText;
  html: StoredText;
  headers_json: StoredText;
  text_cut: number | null;
}

/**
 * For each term, the seqs of the rows it matches: the rows of `ids` (a page of ids at a time: a
 * statement given every id again for each page cost more than the scan) and `scope` (conditions on
 * `messages m`), or with `ids` null every row of the scope (a page of seqs at a time).
 */
export async function scanMayContain(
  reader: Connection,
  terms: readonly MayContainTerm[],
  scope: SqlCondition,
  ids: readonly string[] | null,
): Promise<Map<MayContainTerm, number[]>> {
  const found = new Map<MayContainTerm, number[]>(terms.map((term) => [term, []]));
  if (terms.length === 0) return found;
  const body = terms.some((term) => term.in !== 'header');
  const header = terms.some((term) => term.in !== 'body');
  const columns = [
    'm.seq',
    'm.parse_error IS NOT NULL AS failed',
    body ? 'b.text, b.html, b.text_cut' : 'NULL AS text, NULL AS html, 0 AS text_cut',
    header ? 'b.headers_json' : 'NULL AS headers_json',
  ].join(', ');
  const match = (page: readonly ScanRow[]) => {
    for (const row of page) {
      const headersJson = header ? unpackText(row.headers_json) : null;
      const stored: StoredTexts = {
        text: unpackText(row.text),
        html: unpackText(row.html),
        headers: headersJson ? (JSON.parse(headersJson) as Header[]) : [],
        textCut: row.text_cut === 1,
        parseFailed: row.failed === 1,
      };
      for (const term of terms) {
        const matches =
          (term.in !== 'body' && mayContainInHeader(stored, term.field, term.value)) || (term.in !== 'header' && mayContainInBody(stored, term.value));
        if (matches) found.get(term)!.push(row.seq);
      }
    }
  };
  const from = `SELECT ${columns} FROM messages m LEFT JOIN message_bodies b ON b.seq = m.seq`;
  if (ids !== null) {
    for (let at = 0; at < ids.length; at += SCAN_PAGE) {
      const page = ids.slice(at, at + SCAN_PAGE);
      match(await reader.all<ScanRow>(`${from} WHERE m.id IN (${page.map(() => '?').join(',')}) AND ${scope.sql}`, [...page, ...scope.params]));
    }
    return found;
  }
  for (let after = 0; ; ) {
    const page = await reader.all<ScanRow>(`${from} WHERE m.seq > ? AND (${scope.sql}) ORDER BY m.seq LIMIT ?`, [after, ...scope.params, SCAN_PAGE]);
    match(page);
    if (page.length < SCAN_PAGE) return found;
    after = page[page.length - 1]!.seq;
  }
}
