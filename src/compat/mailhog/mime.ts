/**
 * A message's MIME structure as MailHog shows it, rebuilt from the raw bytes. Pure.
 *
 * MailHog keeps header values and part bodies as received: encoded words stay encoded, bodies stay
 * quoted-printable or base64, and its clients (the `mailhog` npm package, cypress-mailhog) decode
 * them themselves. So nothing here decodes. Where MailHog's own splitting was sloppy, this follows
 * RFC 2046 instead, because the difference only ever showed up as damaged content: delimiters count
 * only at the start of a line, and a part body keeps its own trailing line breaks (MailHog trimmed
 * them all, and with them the last line breaks of the text).
 */
import libmime from 'libmime';

export interface MailhogContent {
  /** Header name as first written → every value, in order; folded lines joined as MailHog joins them. */
  readonly Headers: Record<string, string[]>;
  /** Still transfer-encoded. */
  readonly Body: string;
  /** Bytes of the part (headers and body), or of the whole message at the top. */
  readonly Size: number;
  readonly MIME: MailhogMime | null;
}

export interface MailhogMime {
  readonly Parts: MailhogContent[];
}

/** Multiparts nested deeper than this keep their body unsplit: recursion stays bounded for any input. */
const MAX_DEPTH = 32;

/**
 * The raw bytes, and the same bytes as a latin1 string: one character per byte, so string offsets
 * are byte offsets (for Size) while searching stays fast; text for JSON is decoded as UTF-8.
 */
interface Source {
  readonly raw: Buffer;
  readonly bytes: string;
}

/** MailHog's Content of a whole message, with its multipart structure in `MIME`. */
export function parseContent(raw: Buffer): MailhogContent {
  return contentOf({ raw, bytes: raw.toString('latin1') }, 0, raw.length, 0);
}

function contentOf(src: Source, start: number, end: number, depth: number): MailhogContent {
  const split = headerEnd(src.bytes, start, end);
  // Without a blank line MailHog finds no headers and calls everything body.
  if (split === null) return { Headers: {}, Body: src.raw.toString('utf8', start, end), Size: end - start, MIME: null };
  const headers = parseHeaders(src.raw.toString('utf8', start, split.headEnd));
  const type = firstValue(headers, 'content-type');
  return {
    Headers: toRecord(headers),
    Body: src.raw.toString('utf8', split.bodyStart, end),
    Size: end - start,
    MIME: depth < MAX_DEPTH && type !== null && /^\s*multipart\//i.test(type) ? { Parts: partsOf(src, type, split.bodyStart, end, depth) } : null,
  };
}

/** Where the header block ends and the body starts: after the first empty line (CRLF or bare LF). */
function headerEnd(bytes: string, start: number, end: number): { headEnd: number; bodyStart: number } | null {
  const emptyLineAt = (at: number): number => {
    if (bytes[at] === '\n') return at + 1;
    if (bytes[at] === '\r' && bytes[at + 1] === '\n') return at + 2;
    return -1;
  };
  const first = emptyLineAt(start);
  if (first !== -1 && first <= end) return { headEnd: start, bodyStart: first };
  for (let nl = bytes.indexOf('\n', start); nl !== -1 && nl < end; nl = bytes.indexOf('\n', nl + 1)) {
    const bodyStart = emptyLineAt(nl + 1);
    if (bodyStart !== -1 && bodyStart <= end) return { headEnd: nl + 1, bodyStart };
  }
  return null;
}

interface HeaderEntry {
  readonly name: string;
  readonly values: string[];
}

/** Keyed by lower-cased name; a Map, so that a header called `__proto__` is only a header. */
type HeaderMap = Map<string, HeaderEntry>;

const HEADER_NAME = /^[!-9;-~]+$/;

function parseHeaders(block: string): HeaderMap {
  const headers: HeaderMap = new Map();
  let last: string[] | null = null;
  for (const line of block.split(/\r?\n/)) {
    if (line === '') continue;
    if (last !== null && (line[0] === ' ' || line[0] === '\t')) {
      // A folded line: MailHog drops the line break and keeps the whitespace, so clients see
      // "a b" for "a\r\n b"; they split and decode encoded words on that.
      last[last.length - 1] += line;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trimEnd() : '';
    // Not a header line (MailHog skips these as well).
    if (!HEADER_NAME.test(name)) {
      last = null;
      continue;
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+/, '');
    const key = name.toLowerCase();
    const entry = headers.get(key);
    // Repeated fields (Received, …) collect under the first spelling of the name.
    if (entry) entry.values.push(value);
    else headers.set(key, { name, values: [value] });
    last = (entry ?? headers.get(key)!).values;
  }
  return headers;
}

function firstValue(headers: HeaderMap, key: string): string | null {
  return headers.get(key)?.values[0] ?? null;
}

function toRecord(headers: HeaderMap): Record<string, string[]> {
  // fromEntries defines own properties, so no name can reach Object.prototype.
  return Object.fromEntries([...headers.values()].map((h) => [h.name, h.values]));
}

/**
 * The parts between the delimiter lines of a multipart body. A delimiter is `--boundary` at the
 * start of a line followed only by whitespace; the line break before it belongs to it. Preamble
 * and epilogue are not parts. Without a closing delimiter, the last part runs to the end.
 */
function partsOf(src: Source, contentType: string, start: number, end: number, depth: number): MailhogContent[] {
  const boundary = libmime.parseHeaderValue(contentType).params.boundary;
  if (!boundary) return [];
  const { bytes } = src;
  const marker = `--${Buffer.from(boundary, 'utf8').toString('latin1')}`;
  const parts: MailhogContent[] = [];
  let partStart = -1;
  for (let at = bytes.indexOf(marker, start); at !== -1 && at < end; at = bytes.indexOf(marker, at + marker.length)) {
    if (at !== start && bytes[at - 1] !== '\n') continue;
    const afterMarker = at + marker.length;
    const closing = bytes.startsWith('--', afterMarker) && afterMarker + 2 <= end;
    let lineEnd = bytes.indexOf('\n', afterMarker);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    if (!/^[ \t]*\r?$/.test(bytes.slice(closing ? afterMarker + 2 : afterMarker, lineEnd))) continue;
    if (partStart !== -1) parts.push(contentOf(src, partStart, lineBreakBefore(bytes, at, partStart), depth + 1));
    if (closing) return parts;
    partStart = Math.min(lineEnd + 1, end);
  }
  if (partStart !== -1) parts.push(contentOf(src, partStart, end, depth + 1));
  return parts;
}

/** The end of a part: its delimiter's position minus the CRLF (or LF) that precedes the delimiter. */
function lineBreakBefore(bytes: string, delimiterAt: number, partStart: number): number {
  let end = delimiterAt;
  if (end > partStart && bytes[end - 1] === '\n') end -= 1;
  if (end > partStart && bytes[end - 1] === '\r') end -= 1;
  return end;
}
