/**
 * Attachment bodies are most of the bytes of a large message and nothing the summary or the
 * index needs: decoding them made up nearly all of mailparser's time on 50 KB and 1 MB messages.
 * Before parsing, this finds base64-encoded leaf parts that are not text and swaps each body for a
 * tiny marker, recording the decoded size the real body has. mailparser then parses a message of
 * the same structure (same part ids) in a fraction of the time; parse.ts puts the sizes back.
 *
 * Only parts this scanner fully understands are stripped; anything odd is left for mailparser as
 * it is. Attachment downloads always decode the original raw bytes.
 */

import { randomUUID } from 'node:crypto';

/** Unguessable per process, so that no message can fake a stripped-body marker. */
const MARKER_NONCE = randomUUID();
/** A marker decodes to fewer bytes than this: only contents that small are compared with markers. */
export const MAX_MARKER_BYTES = 128;

/** Bodies up to this size are decoded to measure them; larger ones are counted without copies. */
export const EXACT_DECODE_MAX_BYTES = 64 * 1024;
/** Bodies smaller than this are not worth stripping. */
export const MIN_STRIP_BYTES = 2048;
export const MAX_DEPTH = 32;
/** Past this many delimiters the scan stops (what it found so far is still stripped): bounded work. */
const MAX_DELIMITERS = 1000;
/**
 * With a time limit, multi-byte searches go through the part in windows of this size and the clock
 * is read between them: one native search over a hostile 8 MB part (a short boundary in a sea of
 * dashes) can take 400 ms by itself, one over 64 KB a few ms at worst.
 */
const SEARCH_WINDOW = 64 * 1024;
/** With a time limit, the clock is read every this many iterations of a loop over matches. */
const TICKS_PER_CLOCK_READ = 256;
/**
 * What may follow "--boundary" on a delimiter line before its LF: "--", blanks, CRs. mailparser's
 * splitter accepts at most this much (998 blanks); a longer line is content to it, and here.
 */
export const MAX_DELIMITER_TAIL = 1001;
export const MAX_PART_HEADER_CHARS = 64 * 1024;

export interface Skeleton {
  readonly bytes: Buffer;
  /** Marker text (as the part decodes) → decoded size of the real body. */
  readonly sizes: ReadonlyMap<string, number>;
  /** Large text parts were cut (only a skeleton read from a file: ../parse/skeleton-file.ts). */
  readonly textCut?: boolean;
}

interface Region {
  readonly start: number;
  readonly end: number;
  readonly marker: string;
}

const LF = 0x0a;
const CR = 0x0d;

class OutOfTime extends Error {}

/**
 * The time limit of a scan on the SMTP thread (parse/pool.ts): past it the scan gives up and the
 * message goes to a worker whole. Each level of nesting searches its part again, and short
 * patterns are slow to search on hostile bytes, so neither bytes nor parts bound the time well;
 * the clock does. Without a deadline (in a worker, which has its own time limit) it never stops.
 */
class Clock {
  #ticks = 0;

  constructor(readonly deadline: number | null) {}

  /** In loops whose iterations are cheap: reads the clock only every so often. */
  tick(): void {
    if (this.deadline !== null && ++this.#ticks % TICKS_PER_CLOCK_READ === 0) this.check();
  }

  check(): void {
    if (this.deadline !== null && performance.now() > this.deadline) throw new OutOfTime();
  }
}

const NO_DEADLINE = new Clock(null);

/** `haystack.indexOf(needle, from)`, in windows with the clock read between them when it has a deadline. */
function find(haystack: Buffer, needle: Buffer, from: number, clock: Clock): number {
  if (clock.deadline === null) return haystack.indexOf(needle, from);
  for (let start = from; start < haystack.length; start += SEARCH_WINDOW) {
    const window = haystack.subarray(0, Math.min(haystack.length, start + SEARCH_WINDOW + needle.length - 1));
    const at = window.indexOf(needle, start);
    clock.check();
    if (at >= 0) return at;
  }
  return -1;
}

/**
 * The header block of the part in [start, limit): its text and where the body begins, at the
 * first "\r\n\r\n" or "\n\n", whichever comes first. Found line by line within the part only:
 * searching for each pattern on its own would read the whole part whenever it uses the other
 * line ending, and an unbounded search would read to the end of the message once per part.
 */
function headerEnd(raw: Buffer, start: number, limit: number, clock: Clock): { headers: string; body: number } | null {
  const part = raw.subarray(start, limit);
  for (let nl = part.indexOf(LF); nl >= 0; nl = part.indexOf(LF, nl + 1)) {
    clock.tick();
    if (part[nl + 1] === LF) return { headers: raw.toString('latin1', start, start + nl), body: start + nl + 2 };
    if (nl > 0 && part[nl - 1] === CR && part[nl + 1] === CR && part[nl + 2] === LF) {
      return { headers: raw.toString('latin1', start, start + nl - 1), body: start + nl + 3 };
    }
  }
  return null;
}

export function headerValue(headers: string, name: string): string | null {
  const match = new RegExp(`(?:^|\\n)${name}[ \\t]*:([^\\n]*(?:\\n[ \\t][^\\n]*)*)`, 'i').exec(headers);
  return match ? match[1]!.replace(/\r?\n[ \t]/g, ' ').trim() : null;
}

export function boundaryOf(contentType: string): string | null {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  const boundary = match ? (match[1] ?? match[2])! : null;
  return boundary && boundary.length <= 200 ? boundary : null;
}

/**
 * Decoded length of a base64 body, as mailparser's decoder would produce it: Node's decoder skips
 * line breaks and stray symbols the same way. Where the two differ (data after the padding, the
 * URL-safe alphabet) the answer is null: not ours to guess, mailparser reads the body.
 */
export function base64DecodedSize(raw: Buffer, start: number, end: number): number | null {
  return decodedSize(raw, start, end, NO_DEADLINE);
}

function decodedSize(raw: Buffer, start: number, end: number, clock: Clock): number | null {
  const region = raw.subarray(start, end);
  // Node also decodes the URL-safe alphabet ("-", "_"), which MIME decoders drop.
  if (region.indexOf(0x2d) >= 0 || region.indexOf(0x5f) >= 0) return null;
  const padding = region.indexOf(0x3d);
  if (padding >= 0) {
    const tail = region.subarray(padding);
    if (tail.length > 64 || !/^[=\s]*$/.test(tail.toString('latin1'))) return null;
  }
  if (region.length <= EXACT_DECODE_MAX_BYTES) return Buffer.from(region.toString('latin1'), 'base64').length;
  // Large bodies are counted, not decoded: 3 bytes per 4 characters that are not line breaks,
  // blanks or padding. Exact for valid base64; a stray symbol would count as a character.
  const other = [0x0d, 0x0a, 0x20, 0x09, 0x3d].reduce((sum, byte) => sum + countByte(region, byte, clock), 0);
  return Math.floor(((region.length - other) * 3) / 4);
}

function countByte(region: Buffer, byte: number, clock: Clock): number {
  let count = 0;
  for (let at = region.indexOf(byte); at >= 0; at = region.indexOf(byte, at + 1)) {
    clock.tick();
    count++;
  }
  return count;
}

/** Start offsets of the delimiter lines of `boundary` in [start, end), each at a line start. */
function delimiters(raw: Buffer, boundary: string, start: number, end: number, clock: Clock): number[] {
  const marker = Buffer.from(`--${boundary}`, 'latin1');
  const found: number[] = [];
  // Searched within the part only: a boundary that does not occur must not cost the rest of the message.
  const region = raw.subarray(0, end);
  for (let at = find(region, marker, start, clock); at >= 0 && found.length < MAX_DELIMITERS; at = find(region, marker, at + marker.length, clock)) {
    clock.tick();
    if (at !== start && raw[at - 1] !== LF) continue;
    // A delimiter line is the marker, perhaps "--", then only blanks: a line with anything else
    // after the marker is content to every MIME parser, and must stay content here.
    const tail = at + marker.length;
    let rest = tail;
    if (raw[rest] === 0x2d && raw[rest + 1] === 0x2d) rest += 2;
    let lineEnd = region.indexOf(LF, rest);
    if (lineEnd < 0) lineEnd = end;
    if (lineEnd - tail <= MAX_DELIMITER_TAIL && /^[ \t\r]*$/.test(raw.toString('latin1', rest, lineEnd))) found.push(at);
  }
  return found;
}

function scan(raw: Buffer, start: number, end: number, depth: number, regions: Region[], sizes: Map<string, number>, clock: Clock): void {
  if (depth > MAX_DEPTH) return;
  clock.tick();
  const head = headerEnd(raw, start, end, clock);
  // A part header this long is nothing a generator writes: left to mailparser, and no regular
  // expression here runs over megabytes.
  if (!head || head.headers.length > MAX_PART_HEADER_CHARS) return;
  const contentType = (headerValue(head.headers, 'content-type') ?? 'text/plain').toLowerCase();
  if (contentType.startsWith('multipart/')) {
    const boundary = boundaryOf(headerValue(head.headers, 'content-type') ?? '');
    if (!boundary) return;
    const marks = delimiters(raw, boundary, head.body, end, clock);
    for (let i = 0; i + 1 < marks.length; i++) {
      const partStart = raw.indexOf(LF, marks[i]!) + 1;
      // The line break before the next delimiter belongs to the delimiter (RFC 2046 5.1.1).
      let partEnd = marks[i + 1]! - 1;
      if (partEnd > partStart && raw[partEnd - 1] === 0x0d) partEnd -= 1;
      if (partStart > 0 && partStart <= partEnd) scan(raw, partStart, partEnd, depth + 1, regions, sizes, clock);
    }
    return;
  }
  const encoding = (headerValue(head.headers, 'content-transfer-encoding') ?? '').toLowerCase();
  const leafWorthStripping =
    encoding === 'base64' && !contentType.startsWith('text/') && !contentType.startsWith('message/') && end - head.body >= MIN_STRIP_BYTES;
  if (!leafWorthStripping) return;
  const size = decodedSize(raw, head.body, end, clock);
  if (size === null) return;
  const marker = stripMarker(regions.length);
  regions.push({ start: head.body, end, marker });
  sizes.set(marker, size);
}

/** The text a stripped body decodes to: the index-th of its message. */
export function stripMarker(index: number): string {
  return `kotak-stripped-${MARKER_NONCE}-${index}`;
}

export function stripAttachmentBodies(raw: Buffer): Skeleton {
  return strip(raw, NO_DEADLINE);
}

/**
 * The same, given at most `timeLimitMs` (give or take one search window): null when that was not
 * enough. For the SMTP thread, where a hostile message must not hold up every other connection.
 */
export function stripAttachmentBodiesWithin(raw: Buffer, timeLimitMs: number): Skeleton | null {
  try {
    return strip(raw, new Clock(performance.now() + timeLimitMs));
  } catch (err) {
    if (err instanceof OutOfTime) return null;
    throw err;
  }
}

function strip(raw: Buffer, clock: Clock): Skeleton {
  const regions: Region[] = [];
  const sizes = new Map<string, number>();
  scan(raw, 0, raw.length, 0, regions, sizes, clock);
  if (regions.length === 0) return { bytes: raw, sizes };
  const pieces: Buffer[] = [];
  let at = 0;
  for (const region of regions) {
    pieces.push(raw.subarray(at, region.start), Buffer.from(Buffer.from(region.marker).toString('base64'), 'latin1'));
    at = region.end;
  }
  pieces.push(raw.subarray(at));
  return { bytes: Buffer.concat(pieces), sizes };
}
