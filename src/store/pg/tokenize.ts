/**
 * SQLite's FTS5 tokenizer `unicode61 remove_diacritics 2` (message_fts, SQLite migration 001) in
 * JavaScript, so that PostgreSQL finds words exactly where SQLite does: PostgreSQL's own text
 * parser keeps `user@example.com` whole, folds case by locale and knows no diacritics rule.
 * Token characters and their folding come from a table generated from SQLite itself
 * (unicode61-data.ts, scripts/gen-unicode61-data.ts); test/unit/pg-tokenize.test.ts checks it.
 */
import { FOLDS, SEPARATOR_RANGES } from './unicode61-data.js';

const FOLD = new Map<number, number>(FOLDS.map(([from, to]) => [from, to]));
const REPLACEMENT_CHARACTER = 0xfffd;

function isSeparator(code: number): boolean {
  let low = 0;
  let high = SEPARATOR_RANGES.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [first, last] = SEPARATOR_RANGES[mid]!;
    if (code < first) high = mid - 1;
    else if (code > last) low = mid + 1;
    else return true;
  }
  return false;
}

/** ASCII is most text: its answers once, by table. */
const ASCII_TOKEN = Array.from({ length: 128 }, (_, c) => !isSeparator(c));

/** The tokens of a text, in order, as FTS5 indexes them. */
export function unicode61Tokens(text: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 128) {
      if (ASCII_TOKEN[code]) {
        token += code >= 0x41 && code <= 0x5a ? String.fromCharCode(code + 0x20) : text[i];
        inToken = true;
      } else if (inToken) {
        tokens.push(token);
        token = '';
        inToken = false;
      }
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    // A lone surrogate reaches SQLite as U+FFFD (the driver writes UTF-8).
    if (code >= 0xd800 && code <= 0xdfff) code = REPLACEMENT_CHARACTER;
    if (isSeparator(code)) {
      if (inToken) {
        tokens.push(token);
        token = '';
        inToken = false;
      }
      continue;
    }
    // A diacritic folds to nothing, but still belongs to the token it is in.
    inToken = true;
    const folded = FOLD.get(code) ?? code;
    if (folded !== 0) token += String.fromCodePoint(folded);
  }
  if (inToken) tokens.push(token);
  // FTS5 skips a token that folded to nothing (a run of diacritics alone).
  return tokens.filter((t) => t !== '');
}
