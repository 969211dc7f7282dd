/**
 * The MIME tree of a raw message as byte offsets (RFC 2045/2046), so that every IMAP section is
 * an exact slice of the stored bytes. Built in one pass: bodies are skipped by native searches
 * for lines starting with "--", and such a line ends a part only when it is a delimiter of a
 * multipart still open (innermost first; an outer delimiter also closes the parts inside it, as
 * in Python's email parser and mailparser). The line break before a delimiter belongs to the
 * delimiter (RFC 2046 5.1.1). Line endings are taken as they are (CRLF or bare LF).
 *
 * Malformed mail is read, never refused: a missing final delimiter ends the parts at the end of
 * the message; a multipart without a boundary, or deeper than MAX_DEPTH, or past MAX_PARTS
 * entities, is a leaf; a header without its empty line ends at the end of the part. Pure.
 */
import { type Parameter, parameterValue, parseStructuredValue } from './content-fields.js';
import { FieldNames, firstFieldValues, lineAt } from './header-fields.js';

/** Entities nested deeper than this are leaves (the message itself is at depth 0). */
export const MAX_DEPTH = 100;
/** Past this many entities, multiparts and attached messages are leaves: bounded work and memory. */
export const MAX_PARTS = 10_000;

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const NEWLINE_DASHES = Buffer.from('\n--');

export interface ContentType {
  /** Lower-case. */
  readonly type: string;
  /** Lower-case. */
  readonly subtype: string;
  /** As sent; the default type's own (CHARSET US-ASCII) when there is no usable Content-Type. */
  readonly params: readonly Parameter[];
}

export interface MimeEntity {
  /** First byte of the entity's header. */
  readonly headerStart: number;
  /** After the header's last line (its line break included); the empty line, if any, is [headerEnd, bodyStart). */
  readonly headerEnd: number;
  readonly bodyStart: number;
  /** End of the body (before the line break of the delimiter that ends it). */
  readonly bodyEnd: number;
  readonly contentType: ContentType;
  /** Content-Transfer-Encoding, lower-case and trimmed; '' when absent. */
  readonly encoding: string;
  /** The parts of a multipart (possibly none: an empty multipart, or one without a boundary). */
  readonly children: readonly MimeEntity[];
  /** The encapsulated message of a message/rfc822 or message/global part. */
  readonly message: MimeEntity | null;
  readonly depth: number;
}

const TEXT_PLAIN: ContentType = { type: 'text', subtype: 'plain', params: [['CHARSET', 'US-ASCII']] };
const MESSAGE_RFC822: ContentType = { type: 'message', subtype: 'rfc822', params: [] };
/** The encodings under which an attached message is readable as a message (RFC 2046 5.2.1). */
const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);
const WANTED_FIELDS = new FieldNames(['content-type', 'content-transfer-encoding']);

/** A delimiter line found: which open boundary (index in the stack), open or close, where its line starts and the next line begins. */
interface Delimiter {
  readonly index: number;
  readonly close: boolean;
  readonly start: number;
  readonly next: number;
}

function contentTypeOf(value: string | undefined, fallback: ContentType): ContentType {
  if (value === undefined) return fallback;
  const parsed = parseStructuredValue(value);
  const slash = parsed.value.indexOf('/');
  // As Python's email and most servers: a type that is not "type/subtype" means the default.
  if (slash <= 0 || slash === parsed.value.length - 1 || parsed.value.indexOf('/', slash + 1) >= 0) return fallback;
  return {
    type: parsed.value.slice(0, slash).toLowerCase(),
    subtype: parsed.value.slice(slash + 1).toLowerCase(),
    params: parsed.params,
  };
}

class TreeBuilder {
  readonly #raw: Buffer;
  /** The boundaries of the multiparts open around the current position, outermost first. */
  readonly #open: Buffer[] = [];
  #entities = 0;

  constructor(raw: Buffer) {
    this.#raw = raw;
  }

  /** The entity whose header starts at `start`, and the delimiter that ended it (null: the end of the message). */
  entity(start: number, depth: number, fallback: ContentType): { entity: MimeEntity; stop: Delimiter | null } {
    const raw = this.#raw;
    this.#entities++;
    // The header: lines up to the empty line, or up to a delimiter (a part that is only a header).
    let pos = start;
    let headerEnd = raw.length;
    let bodyStart = raw.length;
    let stop: Delimiter | null = null;
    while (pos < raw.length) {
      const { contentEnd, next } = lineAt(raw, pos);
      if (contentEnd === pos && next > pos) {
        headerEnd = pos;
        bodyStart = next;
        break;
      }
      stop = this.#delimiterAt(pos);
      if (stop) {
        headerEnd = bodyStart = this.#beforeLineBreak(pos, start);
        break;
      }
      pos = next;
    }
    const fields = firstFieldValues(raw, start, Math.max(start, headerEnd), WANTED_FIELDS);
    const contentType = contentTypeOf(fields.get('content-type'), fallback);
    const encoding = (fields.get('content-transfer-encoding') ?? '').trim().toLowerCase();
    const base = { headerStart: start, headerEnd: Math.max(start, headerEnd), bodyStart: Math.max(start, bodyStart), contentType, encoding, depth };
    if (stop) return { entity: { ...base, bodyEnd: base.bodyStart, children: [], message: null }, stop };

    const nestable = depth < MAX_DEPTH && this.#entities < MAX_PARTS;
    const boundary = contentType.type === 'multipart' ? parameterValue(contentType.params, 'boundary')?.replace(/[ \t]+$/, '') : undefined;
    if (nestable && boundary) return this.#multipart(base, boundary, depth);
    if (nestable && contentType.type === 'message' && (contentType.subtype === 'rfc822' || contentType.subtype === 'global') && IDENTITY_ENCODINGS.has(encoding)) {
      const inner = this.entity(base.bodyStart, depth + 1, TEXT_PLAIN);
      const bodyEnd = inner.stop ? this.#beforeLineBreak(inner.stop.start, base.bodyStart) : raw.length;
      return { entity: { ...base, bodyEnd, children: [], message: inner.entity }, stop: inner.stop };
    }
    const found = this.#nextDelimiter(base.bodyStart);
    const bodyEnd = found ? this.#beforeLineBreak(found.start, base.bodyStart) : raw.length;
    return { entity: { ...base, bodyEnd, children: [], message: null }, stop: found };
  }

  #multipart(
    base: Omit<MimeEntity, 'bodyEnd' | 'children' | 'message'>,
    boundary: string,
    depth: number,
  ): { entity: MimeEntity; stop: Delimiter | null } {
    const own = this.#open.length;
    this.#open.push(Buffer.from(boundary, 'latin1'));
    const childType = base.contentType.subtype === 'digest' ? MESSAGE_RFC822 : TEXT_PLAIN;
    const children: MimeEntity[] = [];
    let found = this.#nextDelimiter(base.bodyStart); // skips the preamble
    while (found && found.index === own && !found.close) {
      const child = this.entity(found.next, depth + 1, childType);
      children.push(child.entity);
      found = child.stop;
    }
    this.#open.length = own;
    if (found && found.index === own) found = this.#nextDelimiter(found.next); // the close delimiter; skips the epilogue
    const bodyEnd = found ? this.#beforeLineBreak(found.start, base.bodyStart) : this.#raw.length;
    return { entity: { ...base, bodyEnd, children, message: null }, stop: found };
  }

  /** `at` moved back over the line break just before it, not below `floor`. */
  #beforeLineBreak(at: number, floor: number): number {
    let end = at;
    if (end > floor && this.#raw[end - 1] === LF) {
      end--;
      if (end > floor && this.#raw[end - 1] === CR) end--;
    }
    return end;
  }

  /** The first delimiter line of an open multipart at or after `from` (a line start). */
  #nextDelimiter(from: number): Delimiter | null {
    if (this.#open.length === 0) return null;
    const raw = this.#raw;
    let lineStart = from;
    for (;;) {
      if (raw[lineStart] === DASH && raw[lineStart + 1] === DASH) {
        const found = this.#delimiterAt(lineStart);
        if (found) return found;
      }
      const at = raw.indexOf(NEWLINE_DASHES, lineStart);
      if (at < 0) return null;
      lineStart = at + 1;
    }
  }

  /** The line at `start` as a delimiter of an open multipart (innermost first), or null. */
  #delimiterAt(start: number): Delimiter | null {
    const raw = this.#raw;
    if (this.#open.length === 0 || raw[start] !== DASH || raw[start + 1] !== DASH) return null;
    const line = lineAt(raw, start);
    const next = line.next;
    let end = line.contentEnd;
    // Trailing blanks (transport padding) are not part of it.
    while (end > start + 2 && (raw[end - 1] === 0x20 || raw[end - 1] === 0x09)) end--;
    const length = end - start - 2;
    for (let index = this.#open.length - 1; index >= 0; index--) {
      const boundary = this.#open[index]!;
      if (length !== boundary.length && length !== boundary.length + 2) continue;
      if (raw.compare(boundary, 0, boundary.length, start + 2, start + 2 + boundary.length) !== 0) continue;
      if (length === boundary.length) return { index, close: false, start, next };
      if (raw[end - 1] === DASH && raw[end - 2] === DASH) return { index, close: true, start, next };
    }
    return null;
  }
}

/** The tree of a raw message; the root is the message itself. */
export function parseMimeTree(raw: Buffer): MimeEntity {
  return new TreeBuilder(raw).entity(0, 0, TEXT_PLAIN).entity;
}
