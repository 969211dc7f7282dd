/** Reading one raw header line ("Name: value", possibly folded), shared by both parsers. Pure. */
import libmime from 'libmime';
import type { Header } from './types.js';

/** RFC 2047 encoded-words decoded; the input as it is when it has none or they are broken. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A header line that mailparser hands over as a binary string (a character per byte) as text:
 * 8-bit bytes that are valid UTF-8 are read as UTF-8 (raw UTF-8 headers, RFC 6532, which
 * mailparser's own values read so), anything else stays one character per byte (Latin-1).
 */
export function textOfBinaryLine(line: string): string {
  if (!/[\x80-\xff]/.test(line)) return line;
  try {
    return STRICT_UTF8.decode(Buffer.from(line, 'latin1'));
  } catch {
    return line;
  }
}

/** A header for display: the name as written, the value unfolded (RFC 5322 2.2.3) and decoded. */
export function headerFromLine(line: string): Header {
  const colon = line.indexOf(':');
  if (colon < 0) return { name: line.trim(), value: '' };
  return { name: line.slice(0, colon).trim(), value: decodeWords(line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').trim()) };
}

/** A structured header value (Content-Type, Content-Disposition) as libmime reads it. */
export interface HeaderValue {
  readonly value: string;
  readonly params: Readonly<Record<string, string | undefined>>;
  /** Parameters that were assembled from RFC 2231 segments (and are decoded already). */
  readonly decodedParams: readonly string[];
}

/** The value itself: a token, with no blanks, quotes, comments, escapes or separators (so no libmime corner applies). */
const PLAIN_VALUE = /[ \t]*([^\s;"()\\]+)[ \t]*/y;
/** `; name=token` or `; name="text"`; a name with "*" (RFC 2231) is left to libmime. */
const PLAIN_PARAMETER = /;[ \t]*([A-Za-z0-9_.-]+)[ \t]*=[ \t]*(?:"([^"\\]*)"|([^\s;"()\\]+))[ \t]*/y;
const PLAIN_END = /(?:;[ \t]*)?$/y;

/**
 * `libmime.parseHeaderValue(value, { stripComments: true })`, with the usual shape
 * (`text/plain; charset=utf-8`, `attachment; filename="a.pdf"`) read by sticky regular
 * expressions: libmime walks the value character by character, ~3 µs a header on the SMTP thread.
 * test/unit/header-fast-paths.test.ts requires the same result as libmime for every input.
 */
export function parseHeaderValue(value: string): HeaderValue {
  if (value === '') return { value: '', params: {}, decodedParams: [] };
  return plainHeaderValue(value) ?? (libmime.parseHeaderValue(value, { stripComments: true }) as HeaderValue);
}

/** The usual shape only; null for anything else. Exported for its test. */
export function plainHeaderValue(value: string): HeaderValue | null {
  PLAIN_VALUE.lastIndex = 0;
  const type = PLAIN_VALUE.exec(value);
  if (!type) return null;
  const params: Record<string, string> = {};
  let at = PLAIN_VALUE.lastIndex;
  for (;;) {
    PLAIN_PARAMETER.lastIndex = at;
    const parameter = PLAIN_PARAMETER.exec(value);
    if (!parameter) break;
    const key = parameter[1]!.toLowerCase();
    if (key === '__proto__') return null;
    if (!Object.hasOwn(params, key)) params[key] = parameter[2] ?? parameter[3]!; // the first one counts, as in libmime
    at = PLAIN_PARAMETER.lastIndex;
  }
  PLAIN_END.lastIndex = at;
  return PLAIN_END.test(value) ? { value: type[1]!, params, decodedParams: [] } : null;
}
