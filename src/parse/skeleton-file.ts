/**
 * The skeleton of a message (mail/skeleton.ts: large base64 attachment bodies swapped for markers)
 * built from a file in one pass, for a message received into a spool file: the message itself is
 * never held, only the skeleton, so a 49 MB attachment costs the server its headers.
 *
 * It reads the file in chunks with the rules of mail/skeleton.ts (where headers end, what a
 * delimiter line is, which leaves are stripped, how a stripped body is measured): header sections
 * line by line, a body in pieces between the lines that start with "--". Where a streaming reader cannot
 * decide as that one would without keeping the body (a large body turns out not to be plain
 * base64, a structure deeper than it looks at), it answers null and the caller reads the message
 * whole as before. Stripping fewer parts than mail/skeleton.ts would is always correct: what is left
 * is parsed from its bytes.
 *
 * It also bounds text: of a large text/plain or text/html body that is not an attachment, it keeps
 * only enough to decode the first MAX_INDEXED_BODY_CHARS characters (the bound of the full-text
 * index) and drops the rest (`textCut`). The cut falls wherever the bound is reached, even inside
 * a quoted-printable escape, a base64 group or a multi-byte character: TEXT_KEEP_BYTES leaves
 * room for more characters than the bound at the widest encoding (4 bytes a character, 3 encoded
 * bytes a byte in quoted-printable), and the parser pool keeps only the first
 * MAX_INDEXED_BODY_CHARS of what was decoded, so whatever the cut broke lies past them.
 */
import { open } from 'node:fs/promises';
import { MAX_INDEXED_BODY_CHARS } from '../store/fts-indexer.js';
import type { Skeleton } from '../mail/skeleton.js';
import { boundaryOf, EXACT_DECODE_MAX_BYTES, headerValue, MAX_DELIMITER_TAIL, MAX_DEPTH, MAX_PART_HEADER_CHARS, MIN_STRIP_BYTES, stripMarker } from '../mail/skeleton.js';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const UNDERSCORE = 0x5f;
const EQUALS = 0x3d;
const READ_CHUNK_BYTES = 256 * 1024;
/** Longer lines cannot be delimiters ("--", a boundary of at most 200, "--", the tail): content. */
const MAX_DELIMITER_LINE = 2 + 200 + 2 + MAX_DELIMITER_TAIL + 1;
/** What mail/skeleton.ts allows after the first "=" of a base64 body. */
const MAX_PADDING_TAIL = 64;
/** Bytes mail/skeleton.ts does not count as base64 characters of a large body. */
const NOT_COUNTED = new Set([CR, LF, 0x20, 0x09, EQUALS]);
/** What /^[=\s]*$/ accepts of a latin1 string, byte by byte. */
const PADDING_TAIL_BYTES = new Set([EQUALS, 0x20, 0x09, CR, LF, 0x0b, 0x0c, 0xa0]);

/** Decoded bytes that surely hold MAX_INDEXED_BODY_CHARS characters (at most 4 bytes each), and some to spare. */
const TEXT_DECODED_BYTES = MAX_INDEXED_BODY_CHARS * 4 + 64 * 1024;
/** Encoded bytes of a text body kept, by transfer encoding: base64 4 for 3 (and line breaks), quoted-printable 3 for 1 (and soft breaks). */
const TEXT_KEEP_BYTES: Readonly<Record<string, number>> = {
  base64: Math.ceil((TEXT_DECODED_BYTES * 4) / 3) + 64 * 1024,
  'quoted-printable': TEXT_DECODED_BYTES * 3 + 64 * 1024,
};

/**
 * Characters of an unencoded (7bit, 8bit, binary) text body in a charset whose characters can be
 * counted in its bytes kept before the cut: the bound and some to spare. A 1 MB ASCII text, which
 * the byte bound above keeps whole, is cut at ~320 KB. Counted: every byte that starts a UTF-8
 * character (not 0x80–0xBF), except CR and LF, which decoding may drop or join. In UTF-8 and ASCII
 * that is the characters exactly; in a one-byte charset it counts fewer than there are, so more is
 * kept. Other charsets (multi-byte ones, ISO-2022's escapes) keep the byte bound.
 */
const TEXT_KEEP_CHARS = MAX_INDEXED_BODY_CHARS + 64 * 1024;
const COUNTABLE_CHARSET = /^(utf-?8|us-ascii|ascii|iso-8859-\d+|windows-125\d|latin-?1)$/;
const UNENCODED = new Set(['', '7bit', '8bit', 'binary']);

/** Where `chars` counted characters end in `bytes[0..end)`: that index and the characters still to count. */
function afterChars(bytes: Buffer, end: number, chars: number): { end: number; left: number } {
  let left = chars;
  for (let i = 0; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === CR || byte === LF || (byte >= 0x80 && byte <= 0xbf)) continue;
    if (left === 0) return { end: i, left: 0 };
    left -= 1;
  }
  return { end, left };
}

/** Thrown when the result would not be what mail/skeleton.ts makes: the caller falls back. */
class CannotStream extends Error {}

/** A base64 leaf that is not text: measured as it goes by, its bytes kept only while few. */
interface Leaf {
  /** Where its body starts in the output. */
  readonly start: number;
  length: number;
  notCounted: number;
  /** Offset of the first "=" in the body, or -1. */
  firstEquals: number;
  /** Anything but padding and blanks after the first "=", or "-" or "_" anywhere. */
  unusual: boolean;
  /** The last two bytes of the body, for the line break before a delimiter. */
  last: number;
  beforeLast: number;
}

class SkeletonWriter {
  out: Buffer;
  length = 0;
  readonly sizes = new Map<string, number>();
  /** "--boundary" of each open multipart, outermost first. */
  readonly #boundaries: Buffer[] = [];
  #mode: 'headers' | 'content' = 'headers';
  #headerLines: Buffer[] = [];
  #headerBytes = 0;
  /** Whether the previous line of the header section ended in CRLF. */
  #previousCrlf = false;
  #leaf: Leaf | null = null;
  /** A text body being kept up to its bound: bytes still to keep, then (at 0) nothing more. */
  #textRoom: number | null = null;
  /** For a body whose characters can be counted in its bytes: characters still to keep. */
  #textChars: number | null = null;
  textCut = false;
  /** The current line so far, when it spans reads. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** The rest of the current line is content (too long to be a delimiter or a header). */
  #longLine = false;

  readonly #bounded: boolean;

  constructor(capacity: number, boundText: boolean) {
    this.#bounded = boundText;
    // Pages of the unused end are never touched, so never resident.
    this.out = Buffer.allocUnsafe(capacity);
  }

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#longLine) {
        const lf = chunk.indexOf(LF, at);
        const end = lf < 0 ? chunk.length : lf + 1;
        this.#content(chunk.subarray(at, end));
        if (lf >= 0) this.#longLine = false;
        at = end;
        continue;
      }
      if (this.#mode === 'content' && this.#partialBytes === 0 && chunk.length - at >= 2 && !(chunk[at] === DASH && chunk[at + 1] === DASH)) {
        // Only a line that starts with "--" can be a delimiter: what lies before the next one is
        // content, taken in one piece (a body is not walked line by line in JavaScript).
        at = this.#contentUntilDashes(chunk, at);
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      const end = lf < 0 ? chunk.length : lf + 1;
      const piece = chunk.subarray(at, end);
      at = end;
      if (lf < 0) {
        this.#partial.push(Buffer.from(piece));
        this.#partialBytes += piece.length;
        this.#checkLongLine();
        continue;
      }
      const line = this.#partial.length > 0 ? Buffer.concat([...this.#partial, piece]) : piece;
      this.#partial = [];
      this.#partialBytes = 0;
      this.#line(line);
    }
  }

  /** From a line start that is not "--": content up to the next line start (within the chunk) that is "--", or as far as can be told. */
  #contentUntilDashes(chunk: Buffer, at: number): number {
    const next = chunk.indexOf(LF_DASHES, at);
    if (next >= 0) {
      this.#content(chunk.subarray(at, next + 1));
      return next + 1;
    }
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf >= at) {
      this.#content(chunk.subarray(at, lastLf + 1));
      return lastLf + 1;
    }
    // No line end in the rest of the chunk: the line goes on, as content.
    this.#content(chunk.subarray(at));
    this.#longLine = true;
    return chunk.length;
  }

  /** A line too long to be anything but content goes out as content as it arrives. */
  #checkLongLine(): void {
    const limit = this.#mode === 'headers' ? MAX_PART_HEADER_CHARS : MAX_DELIMITER_LINE;
    if (this.#partialBytes <= limit) return;
    // A header line this long: the part is left to mailparser as it is (mail/skeleton.ts does the same).
    if (this.#mode === 'headers') this.#opaque();
    const pending = Buffer.concat(this.#partial);
    this.#partial = [];
    this.#partialBytes = 0;
    this.#longLine = true;
    this.#content(pending);
  }

  end(): Skeleton {
    if (this.#partial.length > 0) {
      const line = Buffer.concat(this.#partial);
      this.#partial = [];
      this.#line(line);
    }
    // The top-level entity a leaf: its body runs to the end of the message.
    if (this.#leaf && this.#boundaries.length === 0) this.#closeLeaf(false);
    // A leaf never closed is not stripped by mail/skeleton.ts; its bytes must then be here.
    if (this.#leaf && this.#leaf.length > EXACT_DECODE_MAX_BYTES) throw new CannotStream();
    this.#leaf = null;
    return { bytes: this.out.subarray(0, this.length), sizes: this.sizes, ...(this.textCut ? { textCut: true } : {}) };
  }

  #line(line: Buffer): void {
    if (this.#mode === 'headers') return this.#headerLine(line);
    const level = this.#delimiterLevel(line);
    if (level < 0) return this.#content(line);
    if (this.#leaf) this.#closeLeaf(true);
    // The line break before the delimiter belongs to it: a cut body gets one back.
    if (this.#textRoom === 0) this.#write(CRLF);
    this.#textRoom = null;
    this.#textChars = null;
    this.#write(line);
    const closing = line[this.#boundaries[level]!.length] === DASH && line[this.#boundaries[level]!.length + 1] === DASH;
    this.#boundaries.length = closing ? level : level + 1;
    if (closing) return; // the epilogue: content, until an outer delimiter
    this.#mode = 'headers';
    this.#headerLines = [];
    this.#headerBytes = 0;
    this.#previousCrlf = false;
  }

  /** The innermost open multipart whose delimiter line this is, or -1. */
  #delimiterLevel(line: Buffer): number {
    if (line.length > MAX_DELIMITER_LINE || line[0] !== DASH || line[1] !== DASH) return -1;
    for (let level = this.#boundaries.length - 1; level >= 0; level--) {
      const marker = this.#boundaries[level]!;
      if (line.length < marker.length || !line.subarray(0, marker.length).equals(marker)) continue;
      let rest = marker.length;
      if (line[rest] === DASH && line[rest + 1] === DASH) rest += 2;
      const lineEnd = line[line.length - 1] === LF ? line.length - 1 : line.length;
      if (lineEnd - marker.length > MAX_DELIMITER_TAIL) continue;
      if (/^[ \t\r]*$/.test(line.toString('latin1', rest, lineEnd))) return level;
    }
    return -1;
  }

  #headerLine(line: Buffer): void {
    const blank = this.#headerLines.length > 0 && (isLine(line, '\n') || (isLine(line, '\r\n') && this.#previousCrlf));
    this.#write(line);
    if (!blank) {
      // Copied: `line` may be a view of the read buffer, which the next read reuses.
      this.#headerLines.push(Buffer.from(line));
      this.#headerBytes += line.length;
      this.#previousCrlf = line.length >= 2 && line[line.length - 2] === CR;
      if (this.#headerBytes > MAX_PART_HEADER_CHARS) this.#opaque();
      return;
    }
    const headers = Buffer.concat(this.#headerLines).toString('latin1');
    this.#headerLines = [];
    this.#mode = 'content';
    const contentType = (headerValue(headers, 'content-type') ?? 'text/plain').toLowerCase();
    if (contentType.startsWith('multipart/')) {
      const boundary = boundaryOf(headerValue(headers, 'content-type') ?? '');
      if (!boundary) return;
      if (this.#boundaries.length >= MAX_DEPTH) throw new CannotStream();
      this.#boundaries.push(Buffer.from(`--${boundary}`, 'latin1'));
      return;
    }
    const encoding = (headerValue(headers, 'content-transfer-encoding') ?? '').toLowerCase();
    if (encoding === 'base64' && !contentType.startsWith('text/') && !contentType.startsWith('message/')) {
      this.#leaf = { start: this.length, length: 0, notCounted: 0, firstEquals: -1, unusual: false, last: -1, beforeLast: -1 };
    } else if (this.#bounded && isBodyText(contentType, headers)) {
      this.#textRoom = TEXT_KEEP_BYTES[encoding] ?? TEXT_DECODED_BYTES;
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headerValue(headers, 'content-type') ?? '')?.[1]?.toLowerCase() ?? 'us-ascii';
      this.#textChars = UNENCODED.has(encoding) && COUNTABLE_CHARSET.test(charset) ? TEXT_KEEP_CHARS : null;
    }
  }

  /** The part's header section is not understood: its body is content, nothing in it stripped. */
  #opaque(): void {
    this.#mode = 'content';
    this.#headerLines = [];
  }

  #content(bytes: Buffer): void {
    const leaf = this.#leaf;
    if (!leaf && this.#textRoom !== null) return this.#textContent(bytes, this.#textRoom);
    if (!leaf) return this.#write(bytes);
    // Kept while the body may still be small enough to decode exactly or not worth stripping.
    if (leaf.length + bytes.length <= EXACT_DECODE_MAX_BYTES) this.#write(bytes);
    if (bytes.indexOf(DASH) >= 0 || bytes.indexOf(UNDERSCORE) >= 0) leaf.unusual = true;
    let from = 0;
    if (leaf.firstEquals < 0) {
      const equals = bytes.indexOf(EQUALS);
      if (equals >= 0) {
        leaf.firstEquals = leaf.length + equals;
        from = equals;
      } else from = bytes.length;
    }
    for (let i = from; i < bytes.length; i++) if (!PADDING_TAIL_BYTES.has(bytes[i]!)) leaf.unusual = true;
    for (const byte of NOT_COUNTED) leaf.notCounted += countByte(bytes, byte);
    leaf.length += bytes.length;
    if (bytes.length >= 2) leaf.beforeLast = bytes[bytes.length - 2]!;
    else if (bytes.length === 1) leaf.beforeLast = leaf.last;
    if (bytes.length >= 1) leaf.last = bytes[bytes.length - 1]!;
  }

  /** Kept up to the bound, then dropped until the part ends. */
  #textContent(bytes: Buffer, room: number): void {
    if (room === 0) return;
    let end = Math.min(bytes.length, room);
    let counted = false;
    if (this.#textChars !== null) {
      const after = afterChars(bytes, end, this.#textChars);
      this.#textChars = after.left;
      // Only a character that did not fit stops it: the last one kept has all its bytes.
      counted = after.end < end;
      end = after.end;
    }
    this.#write(bytes.subarray(0, end));
    this.#textRoom = counted ? 0 : room - end;
    if (this.#textRoom === 0) this.textCut = true;
  }

  /** The leaf's body ends (before a delimiter: its last line break belongs to the delimiter). */
  #closeLeaf(beforeDelimiter: boolean): void {
    const leaf = this.#leaf!;
    this.#leaf = null;
    let ending = 0;
    if (beforeDelimiter && leaf.last === LF) ending = leaf.beforeLast === CR && leaf.length >= 2 ? 2 : 1;
    const length = leaf.length - ending;
    const kept = leaf.length <= EXACT_DECODE_MAX_BYTES;
    const tail = leaf.firstEquals >= 0 && leaf.firstEquals < length ? length - leaf.firstEquals : 0;
    const strippable = length >= MIN_STRIP_BYTES && !leaf.unusual && tail <= MAX_PADDING_TAIL;
    if (!strippable) {
      // Left as it is: it must be here whole.
      if (!kept) throw new CannotStream();
      return;
    }
    const size = kept
      ? Buffer.from(this.out.toString('latin1', leaf.start, leaf.start + length), 'base64').length
      : Math.floor(((length - (leaf.notCounted - ending)) * 3) / 4);
    const marker = stripMarker(this.sizes.size);
    this.sizes.set(marker, size);
    this.length = leaf.start;
    this.#write(Buffer.from(Buffer.from(marker).toString('base64'), 'latin1'));
    this.#write(ending === 2 ? CRLF : ending === 1 ? LF_ONLY : EMPTY);
  }

  #write(bytes: Buffer): void {
    if (this.length + bytes.length > this.out.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.length + bytes.length));
      this.out.copy(grown, 0, 0, this.length);
      this.out = grown;
    }
    bytes.copy(this.out, this.length);
    this.length += bytes.length;
  }
}

const CRLF = Buffer.from('\r\n');
const LF_DASHES = Buffer.from('\n--');
const LF_ONLY = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);

/** A text/plain or text/html part that a parser takes for the message's text, not for an attachment. */
function isBodyText(contentType: string, headers: string): boolean {
  if (!contentType.startsWith('text/plain') && !contentType.startsWith('text/html')) return false;
  const disposition = (headerValue(headers, 'content-disposition') ?? '').toLowerCase();
  return !disposition.startsWith('attachment') && !/\bfilename\*?=/.test(disposition) && !/;\s*name\*?=/.test(contentType);
}

function isLine(line: Buffer, text: string): boolean {
  return line.length === text.length && line.toString('latin1') === text;
}

function countByte(bytes: Buffer, byte: number): number {
  let count = 0;
  for (let at = bytes.indexOf(byte); at >= 0; at = bytes.indexOf(byte, at + 1)) count++;
  return count;
}

/**
 * The skeleton of the message in `path` (`size` bytes), read in one pass; null when it cannot be
 * made without holding a body (then read the file whole and strip it as before). `boundText`:
 * large text bodies are cut (see above), and the skeleton says so.
 */
export async function stripAttachmentBodiesFromFile(path: string, size: number, options: { boundText?: boolean } = {}): Promise<Skeleton | null> {
  const writer = new SkeletonWriter(size + 1024, options.boundText ?? false);
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      writer.feed(chunk.subarray(0, bytesRead));
    }
    const skeleton = writer.end();
    // A small skeleton gets a buffer of its own size (never a pooled one: it may be transferred
    // to a worker) and the large one is let go.
    if (skeleton.bytes.length >= size / 2) return skeleton;
    const own = Buffer.alloc(skeleton.bytes.length);
    skeleton.bytes.copy(own);
    return { ...skeleton, bytes: own };
  } catch (err) {
    if (err instanceof CannotStream) return null;
    throw err;
  } finally {
    await handle.close();
  }
}
