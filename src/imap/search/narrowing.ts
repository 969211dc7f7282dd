/**
 * A string key → a query in Kotak's search language whose answer holds every message the key
 * matches (and maybe more): the store narrows, then message-text.ts decides each candidate exactly
 * on its raw bytes. Null when no query can be that sure (then every candidate is read). Pure.
 *
 * What each store term matches (src/store/search-sql.ts) decides what is safe to ask:
 * - `subject:` is a LIKE on the stored (decoded) subject, folding ASCII letters only: one term for
 *   each run of the value's characters that the stored subject holds as typed whatever the case
 *   (no whitespace, which the parser may fold, and no letters with a case outside ASCII), ANDed.
 * - FROM, TO, CC, BCC and HEADER of an address field are not asked of the `from:`… columns: those
 *   hold the address lists the parser read, which leave out what IMAP still matches (a group's
 *   name, `undisclosed-recipients:;`, comments, an address the parser could not read). They are
 *   `may-contain` in the header, as HEADER of any other field.
 * - `message-id:` is a LIKE on the id without its angle brackets.
 * - A text term is FTS5 words (unicode61): a phrase of whole words with the last as a prefix. A
 *   substring of the text holds whole every word of the value that is bounded on both sides within
 *   it, and the value's last word as a word's start when a separator comes before it; the value's
 *   first word may be the end of a longer one, so it is left out. Scripts without spaces (CJK,
 *   Thai) are searched by the store as substrings (LIKE), so a run of them is asked as it is.
 * - `may-contain` (a BODY string that may start inside a word, TEXT, HEADER of any field but the
 *   subject and message-id) and
 *   `may-be-sent` (SENT*) are IMAP's own terms, answered from the stored texts, header list and
 *   Date (src/store/may-match.ts): a run is asked as the store keeps it, folded to lower-case ASCII.
 */
import type { MayContainTerm, SearchQuery, SearchTerm } from '../../mail/search-query.js';
// The tokenizer itself (a pure port of FTS5's unicode61), so that words split where the index splits them.
import { unicode61Tokens } from '../../store/pg/tokenize.js';
import type { DateOp, StringTarget } from './keys.js';

type FieldName = Extract<SearchTerm, { kind: 'field' }>['field'];

/** No whitespace (folded by parsers), no NUL (SQLite's LIKE stops at one), no angle brackets (message-id). */
const PLAIN_CHARS = /[^\s\0<>]+/gu;
/** As search-sql.ts's NEEDS_SUBSTRING: the scripts the store searches as substrings, not words. */
const SPACELESS_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]+/gu;

export function narrowingQuery(target: StringTarget, value: string): SearchQuery | null {
  if (value === '') return null;
  const terms = narrowingTerms(target, value);
  return terms.length > 0 ? { terms } : null;
}

/** RFC 5322's field name: printable ASCII but the colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** Field terms for each run, ANDed: every run is in the field, so each is a condition the store may add. */
const MAX_FIELD_TERMS = 8;

function narrowingTerms(target: StringTarget, value: string): SearchTerm[] {
  switch (target.kind) {
    case 'text':
      return mayContain('text', null, value, hasNoCaseOutsideAscii, (char) => char < '\x80' || char > '\xff');
    case 'body': {
      // The full-text index when the string holds a whole word (an index lookup); else the stored texts.
      const term = wordsTerm(value);
      return term ? [term] : mayContain('body', null, value, hasNoCaseOutsideAscii);
    }
    case 'header': {
      if (target.name === 'subject') return fields('subject', runs(value, PLAIN_CHARS, hasNoCaseOutsideAscii));
      if (target.name === 'message-id') return fields('message-id', runs(value, PLAIN_CHARS, hasNoCaseOutsideAscii));
      // A name that is no RFC 5322 field name (8-bit bytes, which IMAP reads as Latin-1 and the
      // store as UTF-8; blanks, as in an mbox "From " line): the parser may not keep such a line.
      if (!FIELD_NAME.test(target.name)) return [];
      return mayContain('header', target.name, value, hasNoCaseOutsideAscii);
    }
  }
}

/**
 * May-contain terms for the runs of the lower-cased value the stored texts hold as they are, ASCII
 * letters folded (search-query.ts's MayContainTerm): no whitespace (HTML folds it, headers unfold
 * it), no NUL, no letter with a case outside ASCII. ANDed: each run is in the text.
 */
function mayContain(where: MayContainTerm['in'], field: string | null, value: string, ...keep: ((char: string) => boolean)[]): MayContainTerm[] {
  const kept = (char: string) => keep.every((test) => test(char));
  const distinct = [...new Set(runs(value.toLowerCase(), PLAIN_CHARS, kept))].sort((a, b) => b.length - a.length);
  return distinct.slice(0, MAX_FIELD_TERMS).map((run) => ({ kind: 'may-contain', in: where, field, value: run, negated: false }));
}

/**
 * The query whose answer is added to `query`'s (the narrowing of a string key on `target`): the
 * messages whose text the store cannot vouch for, which the full-text index and the header columns
 * leave out (a cut text, a message kept raw). Null when `query` keeps them itself (may-contain).
 */
export function unknownTextQuery(target: StringTarget, query: SearchQuery): SearchQuery | null {
  if (query.terms.some((term) => term.kind === 'may-contain')) return null;
  return { terms: [{ kind: 'text-unknown', in: target.kind === 'header' ? 'header' : 'body', negated: false }] };
}

/**
 * The slack of SENT*'s narrowing: IMAP reads the Date header's day as written in its own zone, the
 * store keeps its instant; a zone is at most ±99:59 (RFC 5322's four digits), so the instant lies
 * within 100 hours of the written day's bounds.
 */
const SENT_SLACK_MS = 100 * 3_600_000;
const DAY_MS = 86_400_000;

/** SENTBEFORE, SENTON, SENTSINCE `day` → a query whose answer holds every message it matches. */
export function sentNarrowingQuery(op: DateOp, day: number): SearchQuery {
  const start = day * DAY_MS - SENT_SLACK_MS;
  const end = (day + 1) * DAY_MS + SENT_SLACK_MS;
  const [from, to] = op === 'before' ? [null, day * DAY_MS + SENT_SLACK_MS] : op === 'on' ? [start, end] : [start, null];
  return { terms: [{ kind: 'may-be-sent', from, to, negated: false }] };
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
