/**
 * A string key → a query in Kotak's search language whose answer holds every message the key
 * matches (and maybe more): the store narrows, then message-text.ts decides each candidate exactly
 * on its raw bytes. Null when no query can be that sure (then every candidate is read). Pure.
 *
 * What each store term matches (src/store/search-sql.ts) decides what is safe to ask:
 * - `subject:` is a LIKE on the stored (decoded) subject, folding ASCII letters only: one term for
 *   each run of the value's characters that the stored subject holds as typed whatever the case
 *   (no whitespace, which the parser may fold, and no letters with a case outside ASCII), ANDed.
 * - `from:`, `to:`, `cc:`, `bcc:`, `reply-to:` are LIKEs on the lower-cased "name <address>" lists
 *   the parser read: a term for each run of characters a name or an address keeps as they are
 *   written in the header (letters, digits, atext), so no quotes, brackets, commas or blanks.
 * - `message-id:` is a LIKE on the id without its angle brackets.
 * - A text term is FTS5 words (unicode61): a phrase of whole words with the last as a prefix. A
 *   substring of the text holds whole every word of the value that is bounded on both sides within
 *   it, and the value's last word as a word's start when a separator comes before it; the value's
 *   first word may be the end of a longer one, so it is left out. Scripts without spaces (CJK,
 *   Thai) are searched by the store as substrings (LIKE), so a run of them is asked as it is.
 */
import type { SearchQuery, SearchTerm } from '../../mail/search-query.js';
// The tokenizer itself (a pure port of FTS5's unicode61), so that words split where the index splits them.
import { unicode61Tokens } from '../../store/pg/tokenize.js';
import type { StringTarget } from './keys.js';

type FieldName = Extract<SearchTerm, { kind: 'field' }>['field'];

const ADDRESS_FIELDS = new Map<string, FieldName>([
  ['from', 'from'],
  ['to', 'to'],
  ['cc', 'cc'],
  ['bcc', 'bcc'],
  ['reply-to', 'reply-to'],
]);

/** Characters a parsed address list keeps as written (RFC 5322 atext, `@`, `.`, and any letter or digit). */
const ADDRESS_CHARS = /[\p{L}\p{N}!#$%&'*+\-/=?^_`{|}~.@]+/gu;
/** No whitespace (folded by parsers), no NUL (SQLite's LIKE stops at one), no angle brackets (message-id). */
const PLAIN_CHARS = /[^\s\0<>]+/gu;
/** As search-sql.ts's NEEDS_SUBSTRING: the scripts the store searches as substrings, not words. */
const SPACELESS_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]+/gu;

export function narrowingQuery(target: StringTarget, value: string): SearchQuery | null {
  if (value === '') return null;
  const terms = narrowingTerms(target, value);
  return terms.length > 0 ? { terms } : null;
}

/** Field terms for each run, ANDed: every run is in the field, so each is a condition the store may add. */
const MAX_FIELD_TERMS = 8;

function narrowingTerms(target: StringTarget, value: string): SearchTerm[] {
  switch (target.kind) {
    case 'text':
      // Any header field may hold it, and the store holds only a few of them.
      return [];
    case 'body': {
      const term = wordsTerm(value);
      return term ? [term] : [];
    }
    case 'header': {
      if (target.name === 'subject') return fields('subject', runs(value, PLAIN_CHARS, hasNoCaseOutsideAscii));
      if (target.name === 'message-id') return fields('message-id', runs(value, PLAIN_CHARS, hasNoCaseOutsideAscii));
      const address = ADDRESS_FIELDS.get(target.name);
      // The lists are stored lower-cased by JavaScript, as the store lower-cases the value: any case folds alike.
      if (address) return fields(address, runs(value, ADDRESS_CHARS, () => true));
      return [];
    }
  }
}

/** The longest runs first (the most selective, and the trigram index's best), at most MAX_FIELD_TERMS, none repeated. */
function fields(name: FieldName, values: string[]): SearchTerm[] {
  const distinct = [...new Set(values.map((v) => v.toLowerCase()))].sort((a, b) => b.length - a.length);
  return distinct.slice(0, MAX_FIELD_TERMS).map((v) => ({ kind: 'field', field: name, value: v, negated: false }));
}

/** Every run of `chars` in `value` cut where a character fails `keep`. */
function runs(value: string, chars: RegExp, keep: (char: string) => boolean): string[] {
  return [...value.matchAll(chars)].flatMap((match) => splitBy(match[0], keep));
}

/** The longest run of `chars` in `value` whose every character passes `keep`, or null when none. */
function longestRun(value: string, chars: RegExp, keep: (run: string) => boolean): string | null {
  let best: string | null = null;
  for (const match of value.matchAll(chars)) {
    for (const run of splitBy(match[0], keep)) if (best === null || run.length > best.length) best = run;
  }
  return best;
}

/** The parts of `run` made of characters that pass `keep`. */
function splitBy(run: string, keep: (char: string) => boolean): string[] {
  const parts: string[] = [];
  let part = '';
  for (const char of run) {
    if (keep(char)) part += char;
    else if (part) {
      parts.push(part);
      part = '';
    }
  }
  if (part) parts.push(part);
  return parts;
}

/** SQLite's LIKE folds A-Z only: a letter with a case outside ASCII would have to match exactly. */
function hasNoCaseOutsideAscii(char: string): boolean {
  return char < '\x80' || char.toLowerCase() === char.toUpperCase();
}

function wordsTerm(value: string): SearchTerm | null {
  const spaceless = longestRun(value, SPACELESS_SCRIPT, () => true);
  if (spaceless !== null) return { kind: 'text', value: spaceless, phrase: false, negated: false };
  const words = unicode61Tokens(value);
  // The first word may be the tail of a longer one, unless a separator comes before it.
  const first = String.fromCodePoint(value.codePointAt(0)!);
  const whole = unicode61Tokens(first).length === 0 ? words : words.slice(1);
  if (whole.length === 0) return null;
  // Not a phrase: the last word is a prefix (FTS5 `"a b c"*`), as a word the value cuts may go on.
  return { kind: 'text', value: whole.join(' '), phrase: false, negated: false };
}
