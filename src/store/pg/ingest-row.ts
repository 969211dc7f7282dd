/**
 * What the PostgreSQL store writes for a new message, beyond its summary: the search columns that
 * reproduce SQLite's full-text index and LIKE (search-sql.ts) and the bodies in a form PostgreSQL
 * can hold (its text type cannot hold a NUL). Pure.
 */
import { addressSearchText, nulFreeAddress } from '../../mail/summary.js';
import type { MessageSummary, NewMessage } from '../../mail/types.js';
import { indexedBody, MAX_INDEXED_BODY_CHARS, withoutNuls } from '../fts-indexer.js';
import { indexedWords } from './search-sql.js';
import { unicode61Tokens } from './tokenize.js';

/**
 * A tsvector holds at most 1 MB of lexemes: a message with more distinct tokens than fit below
 * this (lexeme bytes plus their entries) is searched through its token stream alone (`fts_oversize`).
 */
const MAX_WORDS_BYTES = 900_000;

/** A body text as stored: itself when it has no NUL, else as JSON, with what SQLite's LIKE reads of it. */
export interface StoredBody {
  readonly plain: string | null;
  readonly json: string | null;
  readonly likeParts: string[] | null;
}

export interface SearchColumns {
  readonly senderSearch: string;
  readonly words: string[];
  readonly doc: string;
  readonly oversize: boolean;
}

/** A lone surrogate as the UTF-8 the SQLite driver writes turns it: U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** SQLite's LIKE folds ASCII letters only. */
export function asciiFold(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

/** SQLite's substr(text, 1, n): at most n characters, and nothing past a NUL (it reads a C string). */
function sqliteSubstr(text: string, chars: number): string {
  const nul = text.indexOf('\0');
  const upToNul = nul === -1 ? text : text.slice(0, nul);
  let count = 0;
  let end = 0;
  while (end < upToNul.length && count < chars) {
    const code = upToNul.charCodeAt(end);
    end += code >= 0xd800 && code <= 0xdbff && end + 1 < upToNul.length ? 2 : 1;
    count++;
  }
  return upToNul.slice(0, end);
}

/**
 * The body FTS5 indexes: migration 011's trigger over the pending row (the text cut at twice the
 * bound in UTF-16 units, the HTML's text at the bound, NULs as spaces), with SQLite's substr.
 */
function indexedBodyText(text: string, htmlText: string): string {
  if (text === '') return htmlText;
  if (htmlText === '') return sqliteSubstr(text, MAX_INDEXED_BODY_CHARS);
  return sqliteSubstr(`${sqliteSubstr(text, MAX_INDEXED_BODY_CHARS)}\n${htmlText}`, MAX_INDEXED_BODY_CHARS);
}

export function searchColumns(message: NewMessage, summary: MessageSummary): SearchColumns {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  const replyTo = (parsed?.replyTo ?? []).map(nulFreeAddress);
  const from = summary.from ? [summary.from] : [];
  const envelopeAddresses = [message.envelope.mailFrom, ...message.envelope.rcptTo].join(' ');
  const text = withoutNuls(parsed?.text ?? '');
  const columns = [
    summary.subject,
    `${addressSearchText([...from, ...summary.to, ...summary.cc, ...summary.bcc, ...replyTo])} ${envelopeAddresses}`,
    indexedBodyText(wellFormed(text.length > 2 * MAX_INDEXED_BODY_CHARS ? text.slice(0, 2 * MAX_INDEXED_BODY_CHARS) : text), wellFormed(indexedBody(withoutNuls(parsed?.htmlText ?? '')))),
    withoutNuls((parsed?.attachments ?? []).map((a) => a.filename ?? '').join(' ')),
  ].map(unicode61Tokens);
  const words = indexedWords(columns.flat());
  let bytes = 0;
  for (const word of words) bytes += Buffer.byteLength(word) + 8;
  const oversize = bytes > MAX_WORDS_BYTES;
  const sender = message.envelope.mailFrom;
  return {
    senderSearch: asciiFold(wellFormed(sender.includes('\0') ? sender.slice(0, sender.indexOf('\0')) : sender)),
    words: oversize ? [] : words,
    doc: columns.map((tokens) => ` ${tokens.join(' ')} `).join('\n'),
    oversize,
  };
}

/**
 * A text or HTML body for message_bodies. With a NUL (which PostgreSQL's text cannot hold), kept
 * as JSON, and searched by substring in its parts between NULs: a search term never holds a NUL,
 * and SQLite's store searches such a body whole (it always packs it: store/blob-codec.ts).
 */
export function storedBody(text: string | null): StoredBody {
  if (text === null || !text.includes('\0')) return { plain: text, json: null, likeParts: null };
  const whole = wellFormed(text);
  return { plain: null, json: JSON.stringify(whole), likeParts: whole.split('\0') };
}

export function readBody(plain: string | null, json: string | null): string | null {
  return json !== null ? (JSON.parse(json) as string) : plain;
}

/** The attachments' file names as SQLite's LIKE reads them: '' for none, nothing past a NUL. */
export function attachmentNames(message: NewMessage): string[] {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  return (parsed?.attachments ?? []).map((a) => {
    const name = wellFormed(a.filename ?? '');
    return name.includes('\0') ? name.slice(0, name.indexOf('\0')) : name;
  });
}
