/**
 * A message's MIME structure as MailHog shows it, found in the raw bytes. Pure.
 *
 * MailHog keeps header values and part bodies as received: encoded words stay encoded, bodies stay
 * quoted-printable or base64, and its clients (the `mailhog` npm package, cypress-mailhog) decode
 * them themselves. So nothing here decodes. Where MailHog's own splitting was sloppy, this follows
 * RFC 2046 instead, because the difference only ever showed up as damaged content: delimiters count
 * only at the start of a line, and a part body keeps its own trailing line breaks (MailHog trimmed
 * them all, and with them the last line breaks of the text).
 *
 * The result holds byte ranges, never bodies: in MailHog's shape a multipart's Body is all of its
 * parts' bytes again, so a part nested N deep appears N times. Turning ranges into text, and how
 * much of it, is the writer's job (shapes.ts), which streams it.
 *
 * Why not mailparser's splitter (@zone-eu/mailsplit), as issue 15 asked: the same tree built on it
 * (bench/mailsplit-structure.ts) is 6-10× slower on the corpus and 5-18× on a 20 MB attachment
 * (bench/mailhog-structure.ts), nearly all of it the Splitter's per-line JavaScript, and it is async.
 */
import libmime from 'libmime';

export interface MimeNode {
  /** Header name as first written → every value, in order; folded lines joined as MailHog joins them. */
  readonly headers: Record<string, string[]>;
  /** Where the part (its headers) starts, where its body starts, and where both end. */
  readonly start: number;
  readonly bodyStart: number;
  readonly end: number;
  /** The parts of a multipart, or null (MailHog's `MIME: null`). */
  readonly parts: MimeNode[] | null;
}

export interface MimeTree {
  readonly root: MimeNode;
  /** True when parts past `maxParts` were not split out (their bytes are still in their multipart's body). */
  readonly partsOmitted: boolean;
}

export interface StructureLimits {
  /** The most parts split out of one message, at every level together. */
  readonly maxParts: number;
  /** The most bytes of header sections read; later parts show no headers. */
  readonly maxHeaderBytes: number;
}

/** Multiparts nested deeper than this keep their body unsplit: recursion stays bounded for any input. */
export const MAX_DEPTH = 32;

/**
 * The raw bytes, and the same bytes as a latin1 string: one character per byte, so string offsets
 * are byte offsets while searching stays fast; text for JSON is decoded as UTF-8.
 */
interface Source {
  readonly raw: Buffer;
  readonly bytes: string;
  readonly limits: StructureLimits;
  parts: number;
  headerBytes: number;
  partsOmitted: boolean;
}

export function parseStructure(raw: Buffer, limits: StructureLimits): MimeTree {
  const src: Source = { raw, bytes: raw.toString('latin1'), limits, parts: 0, headerBytes: 0, partsOmitted: false };
  const root = nodeOf(src, 0, raw.length, 0);
  return { root, partsOmitted: src.partsOmitted };
}

function nodeOf(src: Source, start: number, end: number, depth: number): MimeNode {
  const split = headerEnd(src.bytes, start, end);
  // Without a blank line MailHog finds no headers and calls everything body.
  if (split === null) return { headers: {}, start, bodyStart: start, end, parts: null };
  const headerBytes = split.headEnd - start;
  const readHeaders = src.headerBytes + headerBytes <= src.limits.maxHeaderBytes;
  if (readHeaders) src.headerBytes += headerBytes;
  else src.partsOmitted = true;
  const headers = readHeaders ? parseHeaders(src.raw.toString('utf8', start, split.headEnd)) : new Map<string, HeaderEntry>();
  const type = firstValue(headers, 'content-type');
  const multipart = depth < MAX_DEPTH && type !== null && /^\s*multipart\//i.test(type);
  return {
    headers: toRecord(headers),
    start,
    bodyStart: split.bodyStart,
    end,
    parts: multipart ? partsOf(src, type, split.bodyStart, end, depth) : null,
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
export type HeaderMap = Map<string, HeaderEntry>;

const HEADER_NAME = /^[!-9;-~]+$/;

export function parseHeaders(block: string): HeaderMap {
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

export function firstValue(headers: HeaderMap, key: string): string | null {
  return headers.get(key)?.values[0] ?? null;
}

export function toRecord(headers: HeaderMap): Record<string, string[]> {
  // fromEntries defines own properties, so no name can reach Object.prototype.
  return Object.fromEntries([...headers.values()].map((h) => [h.name, h.values]));
}

/**
 * The parts between the delimiter lines of a multipart body. A delimiter is `--boundary` at the
 * start of a line followed only by whitespace; the line break before it belongs to it. Preamble
 * and epilogue are not parts. Without a closing delimiter, the last part runs to the end.
 */
function partsOf(src: Source, contentType: string, start: number, end: number, depth: number): MimeNode[] {
  const boundary = libmime.parseHeaderValue(contentType).params.boundary;
  if (!boundary) return [];
  const { bytes } = src;
  const marker = `--${Buffer.from(boundary, 'utf8').toString('latin1')}`;
  const parts: MimeNode[] = [];
  const add = (partStart: number, partEnd: number): boolean => {
    if (src.parts >= src.limits.maxParts) {
      src.partsOmitted = true;
      return false;
    }
    src.parts += 1;
    parts.push(nodeOf(src, partStart, partEnd, depth + 1));
    return true;
  };
  let partStart = -1;
  for (let at = bytes.indexOf(marker, start); at !== -1 && at < end; at = bytes.indexOf(marker, at + marker.length)) {
    if (at !== start && bytes[at - 1] !== '\n') continue;
    const afterMarker = at + marker.length;
    const closing = bytes.startsWith('--', afterMarker) && afterMarker + 2 <= end;
    let lineEnd = bytes.indexOf('\n', afterMarker);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    if (!/^[ \t]*\r?$/.test(bytes.slice(closing ? afterMarker + 2 : afterMarker, lineEnd))) continue;
    if (partStart !== -1 && !add(partStart, lineBreakBefore(bytes, at, partStart))) return parts;
    if (closing) return parts;
    partStart = Math.min(lineEnd + 1, end);
  }
  if (partStart !== -1) add(partStart, end);
  return parts;
}

/** The end of a part: its delimiter's position minus the CRLF (or LF) that precedes the delimiter. */
function lineBreakBefore(bytes: string, delimiterAt: number, partStart: number): number {
  let end = delimiterAt;
  if (end > partStart && bytes[end - 1] === '\n') end -= 1;
  if (end > partStart && bytes[end - 1] === '\r') end -= 1;
  return end;
}
