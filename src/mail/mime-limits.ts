/**
 * The structure limits (--max-header-size, --max-mime-parts, --max-mime-depth), checked before
 * anything parses a message. A message over them is stored raw and flagged with the reason instead
 * of being parsed: a 10 MB header line, a million tiny parts or a hundred thousand nested
 * multiparts would otherwise cost the parser megabytes of strings, a million objects or a deep
 * recursion. Stored rather than refused: the raw bytes are what a test wants to look at, and
 * real MTAs (Postfix) accept such mail too.
 *
 * One pass over the bytes with native searches, stopping at the first limit crossed: header lines
 * are read one by one (only Content-Type and Content-Transfer-Encoding are kept), bodies are
 * skipped to the next line that starts with "--", and such a line is looked up among the
 * boundaries of the open multiparts. Delimiter lines are recognised as mailparser's splitter
 * recognises them (RFC 2046 5.1.1, trailing blanks allowed, an outer delimiter closes the inner
 * parts), so the count is the one mailparser would reach. Work and memory are linear in the size
 * of the message whatever its shape.
 */
import libmime from 'libmime';
import { plainHeaderValue } from './header-line.js';

export interface MimeLimits {
  /** Bytes of a header section (of the message, or of any part), its empty line not counted. */
  readonly maxHeaderBytes: number;
  /** Entities in the message, the message itself and every multipart container included. */
  readonly maxParts: number;
  /** How deep an entity may sit: the parts of a top-level multipart are at depth 1. */
  readonly maxDepth: number;
}

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const NEWLINE_DASHES = Buffer.from('\n--');
/** Blanks a delimiter line may carry after the boundary (the bound mailparser's splitter uses). */
const MAX_DELIMITER_PADDING = 998;
/** Header names are recognised from this many leading bytes of a line. */
const NAME_PREFIX_BYTES = 32;
const KEPT_HEADER = /^(content-type|content-transfer-encoding)[ \t]*:/i;
/** Encodings under which an attached message is parsed as a nested message (else it is an opaque body). */
const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);

interface OpenMultipart {
  readonly boundary: Buffer;
  /** Depth of the multipart entity itself; its parts are one deeper. */
  readonly depth: number;
}

type Delimiter = { readonly kind: 'open' | 'close'; readonly index: number } | null;

/**
 * The type and boundary, read as mailparser reads them (libmime, without stripping comments). The
 * usual shape is read by header-line.ts's plain reader, which gives libmime's result for what it
 * accepts (libmime takes ~20 µs per header, too much for every message on the SMTP thread);
 * quoting, comments and RFC 2231 parameters go to libmime itself.
 */
function contentTypeOf(value: string): { type: string; boundary: string } {
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  if (!type.startsWith('multipart/')) return { type, boundary: '' };
  const parsed = plainHeaderValue(value) ?? libmime.parseHeaderValue(value);
  return { type: (parsed.value || '').trim().toLowerCase(), boundary: typeof parsed.params.boundary === 'string' ? parsed.params.boundary : '' };
}

const EMPTY_LINE_LF = Buffer.from('\n\n');
const EMPTY_LINE_CRLF = Buffer.from('\n\r\n');

function headerReason(limits: MimeLimits): string {
  return `a header section is over ${limits.maxHeaderBytes} bytes (limit: --max-header-size); kept unparsed`;
}

/**
 * Only the message's own header against --max-header-size: two native searches within the first
 * maxHeaderBytes + 3 bytes, however large the message. For the SMTP thread, before anything
 * else looks at a large message.
 */
export function messageHeaderExceeded(raw: Buffer, limits: MimeLimits): string | null {
  if (raw[0] === LF || (raw[0] === CR && raw[1] === LF)) return null; // no header at all
  const head = raw.subarray(0, limits.maxHeaderBytes + 3);
  const crlf = head.indexOf(EMPTY_LINE_CRLF);
  // Only before the CRLF empty line: in a CRLF message "\n\n" never occurs, and would be searched for in vain.
  const lf = (crlf >= 0 ? head.subarray(0, crlf + 1) : head).indexOf(EMPTY_LINE_LF);
  const end = lf >= 0 ? lf : crlf;
  // The header ends with the line break that starts the empty line; without one, it is the whole message.
  const headerBytes = end >= 0 ? end + 1 : raw.length;
  return headerBytes > limits.maxHeaderBytes ? headerReason(limits) : null;
}

/** Why the message is over a limit, or null when it is within them. */
export function mimeLimitExceeded(raw: Buffer, limits: MimeLimits): string | null {
  const open: OpenMultipart[] = [];
  let longestBoundary = 0;
  let parts = 0;
  let pos = 0;
  /** Depth of the entity whose header starts at `pos`, or null while reading a body. */
  let headerDepth: number | null = 0;

  const lineEnd = (start: number): { contentEnd: number; next: number } => {
    const nl = raw.indexOf(LF, start);
    const end = nl < 0 ? raw.length : nl;
    let contentEnd = end;
    while (contentEnd > start && raw[contentEnd - 1] === CR) contentEnd--;
    return { contentEnd, next: nl < 0 ? raw.length : nl + 1 };
  };

  /**
   * The open multipart whose delimiter the line [start, contentEnd) is, innermost first. Compared
   * as bytes, without building strings: a body can be millions of lines starting with "--".
   */
  const delimiterAt = (start: number, contentEnd: number): Delimiter => {
    if (open.length === 0 || raw[start] !== DASH || raw[start + 1] !== DASH) return null;
    if (contentEnd - start > 2 + longestBoundary + 2 + MAX_DELIMITER_PADDING) return null;
    let end = contentEnd;
    while (end > start + 2 && (raw[end - 1] === 0x20 || raw[end - 1] === 0x09)) end--;
    const length = end - start - 2;
    for (let i = open.length - 1; i >= 0; i--) {
      const boundary = open[i]!.boundary;
      if (length !== boundary.length && length !== boundary.length + 2) continue;
      if (raw.compare(boundary, 0, boundary.length, start + 2, start + 2 + boundary.length) !== 0) continue;
      if (length === boundary.length) return { kind: 'open', index: i };
      if (raw[end - 1] === DASH && raw[end - 2] === DASH) return { kind: 'close', index: i };
    }
    return null;
  };

  /** Applies a delimiter: the next part of that multipart begins, or the multipart ends. */
  const follow = (delimiter: NonNullable<Delimiter>): void => {
    const owner = open[delimiter.index]!;
    open.length = delimiter.kind === 'open' ? delimiter.index + 1 : delimiter.index;
    longestBoundary = open.reduce((longest, m) => Math.max(longest, m.boundary.length), 0);
    headerDepth = delimiter.kind === 'open' ? owner.depth + 1 : null;
  };

  while (pos < raw.length) {
    if (headerDepth !== null) {
      const depth: number = headerDepth;
      parts += 1;
      if (parts > limits.maxParts) return `more than ${limits.maxParts} MIME parts (limit: --max-mime-parts); kept unparsed`;
      if (depth > limits.maxDepth) return `MIME parts nested more than ${limits.maxDepth} deep (limit: --max-mime-depth); kept unparsed`;
      let contentType = '';
      let encoding = '';
      let kept: 'type' | 'encoding' | null = null;
      let interrupted: Delimiter = null;
      const headerStart = pos;
      while (pos < raw.length) {
        const { contentEnd, next } = lineEnd(pos);
        const start = pos;
        pos = next;
        if (contentEnd === start) break; // the empty line: the body follows
        interrupted = delimiterAt(start, contentEnd);
        if (interrupted) break; // a part that is only a header
        if (pos - headerStart > limits.maxHeaderBytes) return headerReason(limits);
        const first = raw[start];
        if (first === 0x20 || first === 0x09) {
          if (kept === 'type') contentType += raw.toString('latin1', start, contentEnd);
          else if (kept === 'encoding') encoding += raw.toString('latin1', start, contentEnd);
          continue;
        }
        // Only the two headers kept are turned into strings whole: a 10 MB header line of any
        // other name costs one native search.
        const name = KEPT_HEADER.exec(raw.toString('latin1', start, Math.min(contentEnd, start + NAME_PREFIX_BYTES)));
        kept = name ? (name[1]!.toLowerCase() === 'content-type' ? 'type' : 'encoding') : null;
        if (kept === null) continue;
        const line = raw.toString('latin1', start, contentEnd);
        const value = line.slice(line.indexOf(':') + 1);
        if (kept === 'type') contentType = value;
        else encoding = value;
      }
      if (interrupted) {
        follow(interrupted);
        continue;
      }
      const { type, boundary } = contentTypeOf(contentType);
      if (type.startsWith('multipart/') && boundary) {
        open.push({ boundary: Buffer.from(boundary, 'latin1'), depth });
        longestBoundary = Math.max(longestBoundary, boundary.length);
        headerDepth = null;
      } else if ((type === 'message/rfc822' || type === 'message/global') && IDENTITY_ENCODINGS.has(encoding.trim().toLowerCase())) {
        headerDepth = depth + 1; // the attached message's own header starts right here
      } else {
        headerDepth = null;
      }
      continue;
    }

    // A body: only a delimiter line of an open multipart can end it.
    if (open.length === 0) return null;
    let start = pos;
    if (raw[start] !== DASH || raw[start + 1] !== DASH) {
      const found = raw.indexOf(NEWLINE_DASHES, pos);
      if (found < 0) return null;
      start = found + 1;
    }
    const { contentEnd, next } = lineEnd(start);
    pos = next;
    const delimiter = delimiterAt(start, contentEnd);
    if (delimiter) follow(delimiter);
  }
  return null;
}
