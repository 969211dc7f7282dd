/**
 * What SEARCH's string keys compare against, read from a message's raw bytes, and the checks
 * themselves: a case-insensitive substring of a header field's value (unfolded, RFC 2047
 * encoded words decoded) or of the message's text (each text/plain part, or the HTML's text when
 * there is none, as Kotak's parser reads them and its full-text index holds them). Only the
 * candidates the store's search left are read this way (evaluate.ts).
 */
import { decodeWords, textOfBinaryLine } from '../../mail/header-line.js';
import { parseMessage } from '../../mail/parse.js';
import { writtenDay } from './dates.js';
import type { StringTarget } from './keys.js';

export interface HeaderField {
  /** Lower-cased. */
  readonly name: string;
  /** Unfolded, decoded and lower-cased: ready for a substring test. */
  readonly value: string;
}

export interface MessageTexts {
  readonly headers: readonly HeaderField[];
  /** The Date header's day as written, or null. */
  readonly sentDay: number | null;
  /** Lower-cased; null until a key needs it (parsing the body costs more than the header). */
  body: readonly string[] | null;
}

/** The header section's fields (up to the first empty line; all of it when there is none). */
export function headerFields(raw: Buffer): HeaderField[] {
  const end = headerEnd(raw);
  // One character per byte; each field is then read as UTF-8 where it is valid (RFC 6532), as the parser reads it.
  const section = raw.subarray(0, end).toString('latin1');
  const fields: HeaderField[] = [];
  for (const line of section.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeWords(textOfBinaryLine(line.slice(colon + 1)).replace(/\r?\n(?=[ \t])/g, '').trim());
    fields.push({ name, value: value.toLowerCase() });
  }
  return fields;
}

/** Where the header section ends: before its blank line, or the whole message. */
function headerEnd(raw: Buffer): number {
  if (raw[0] === 0x0a || (raw[0] === 0x0d && raw[1] === 0x0a)) return 0;
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((at) => at >= 0);
  return ends.length === 0 ? raw.length : Math.min(...ends);
}

/** The header's texts; the body's are read by `withBody` when a key needs them. */
export function messageTexts(raw: Buffer): MessageTexts {
  const headers = headerFields(raw);
  const date = headers.find((field) => field.name === 'date');
  return { headers, sentDay: date ? writtenDay(date.value) : null, body: null };
}

/**
 * The message's text as Kotak's parser reads it: its plain text and its HTML's text, lower-cased.
 * A message the parser refuses (Kotak keeps those raw: too many parts, say) is searched in its raw
 * body as UTF-8, so that one such message fails no search.
 */
export async function bodyTexts(raw: Buffer): Promise<string[]> {
  let parsed;
  try {
    parsed = await parseMessage(raw);
  } catch {
    return [raw.subarray(headerEnd(raw)).toString('utf8').toLowerCase()];
  }
  return [parsed.text, parsed.htmlText].flatMap((text) => (text ? [text.toLowerCase()] : []));
}

/**
 * Whether a message matches a string key; `needle` is lower-cased. An empty needle matches any
 * message that has the field (HEADER's rule, RFC 3501 6.4.4), and every message for BODY and TEXT.
 */
export function textMatches(texts: MessageTexts, target: StringTarget, needle: string): boolean {
  switch (target.kind) {
    case 'header':
      return texts.headers.some((field) => field.name === target.name && field.value.includes(needle));
    case 'text':
      if (needle === '') return true;
      return anyFieldMatches(texts, needle) || (texts.body ?? []).some((text) => text.includes(needle));
    case 'body':
      return needle === '' || (texts.body ?? []).some((text) => text.includes(needle));
  }
}

/** TEXT's header half: some field, as `name: value`, holds the needle. */
export function anyFieldMatches(texts: MessageTexts, needle: string): boolean {
  return texts.headers.some((field) => `${field.name}: ${field.value}`.includes(needle));
}

/** Whether checking a key needs the body parsed. */
export function needsBody(target: StringTarget): boolean {
  return target.kind !== 'header';
}
