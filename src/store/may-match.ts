/**
 * What the narrowing terms (src/mail/search-query.ts's MayContainTerm and MayBeSentTerm) match, in
 * both stores: the SQLite store runs these functions over the stored rows (store/narrowing-scan.ts),
 * the PostgreSQL store compiles the same rules to SQL (store/pg/search-sql.ts); the contract suite
 * holds them to the same answers. Each is a superset of IMAP's exact match (src/imap/search/
 * message-text.ts): it may keep a message IMAP then rejects, never drop one IMAP would match.
 *
 * A message matches `may-contain` in the body when:
 * - it was kept raw after a parse failure, or its text was cut (text_cut: past the cut the store
 *   cannot say no);
 * - its stored text, ASCII letters folded, holds the value;
 * - its stored HTML (markup, not text: the HTML's text is not kept), ASCII letters folded, holds
 *   every piece of the value that markup keeps as written (mail/html-text.ts's markupPieces), or
 *   has an entity that may stand for any character or for none (MARKUP_JOINING_ENTITIES);
 * - its text or HTML has a character that lower-cases into ASCII (FOLDS_INTO_ASCII), which folding
 *   ASCII letters alone would miss.
 * In the header: kept raw, or some stored header field (the parser's list: unfolded, encoded words
 * decoded) named `field` whose value, folded, holds the value; with `field` null, some field as
 * `name: value`, folded, holds it, or has a name with a character beyond ASCII (IMAP reads a name's
 * bytes as Latin-1, the store as UTF-8); or a name or value holds a FOLDS_INTO_ASCII character.
 * In `text` (IMAP's TEXT): in the header or in the body. `text-unknown` is the "cannot tell" part
 * alone: in the body a cut text or a raw message (bodyUnknown), in the header a raw message or a
 * subject or message id holding a FOLDS_INTO_ASCII character (compiled to SQL by both stores).
 */
import type { Header } from '../mail/types.js';
import { MARKUP_JOINING_ENTITIES, markupPieces } from '../mail/html-text.js';

/**
 * The characters outside ASCII whose lower case (JavaScript's toLowerCase, which IMAP's check uses)
 * holds an ASCII or caseless character: U+0130 (İ → "i̇") and U+212A (the Kelvin sign → "k").
 * test/unit/may-match.test.ts checks every code point for others.
 */
export const FOLDS_INTO_ASCII: readonly string[] = ['\u0130', '\u212a'];

/** Years below 1000: JavaScript reads an obsolete 3-digit year as written, where RFC 5322 (and IMAP's SENT*) adds 1900. */
export const EARLIEST_TRUSTED_DATE = Date.UTC(1000, 0, 1);

/** A message's parsed texts as the store keeps them. */
export interface StoredTexts {
  readonly text: string | null;
  readonly html: string | null;
  readonly headers: readonly Header[];
  readonly textCut: boolean;
  readonly parseFailed: boolean;
}

/** A-Z → a-z, nothing else: as SQLite's LIKE and PostgreSQL's kotak_fold compare. */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

function foldsIntoAscii(text: string): boolean {
  return FOLDS_INTO_ASCII.some((char) => text.includes(char));
}

export function mayContainInBody(stored: StoredTexts, value: string): boolean {
  if (bodyUnknown(stored)) return true;
  if (stored.text !== null && (foldAscii(stored.text).includes(value) || foldsIntoAscii(stored.text))) return true;
  if (stored.html === null) return false;
  const markup = foldAscii(stored.html);
  if (foldsIntoAscii(markup) || MARKUP_JOINING_ENTITIES.some((entity) => markup.includes(entity))) return true;
  return markupPieces(value).every((piece) => markup.includes(piece));
}

export function mayContainInHeader(stored: StoredTexts, field: string | null, value: string): boolean {
  if (stored.parseFailed) return true;
  return stored.headers.some((header) => {
    if (foldsIntoAscii(header.name) || foldsIntoAscii(header.value)) return true;
    if (field !== null) return foldAscii(header.name) === field && foldAscii(header.value).includes(value);
    return /[^\x00-\x7f]/.test(header.name) || `${foldAscii(header.name)}: ${foldAscii(header.value)}`.includes(value);
  });
}

/** TextUnknownTerm in the body: the stored text is not the whole of the body's. */
export function bodyUnknown(stored: Pick<StoredTexts, 'textCut' | 'parseFailed'>): boolean {
  return stored.textCut || stored.parseFailed;
}

/** MayBeSentTerm on the store's Date (epoch ms, null when unreadable). */
export function mayBeSent(date: number | null, from: number | null, to: number | null): boolean {
  if (date === null || date < EARLIEST_TRUSTED_DATE) return true;
  return (from === null || date >= from) && (to === null || date < to);
}
