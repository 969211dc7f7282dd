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
const EXACT_DECODE_MAX_BYTES = 64 * 1024;
/** Bodies smaller than this are not worth stripping. */
const MIN_STRIP_BYTES = 2048;
const MAX_DEPTH = 32;
/** Past this many delimiters the scan stops (what it found so far is still stripped): bounded work. */
const MAX_DELIMITERS = 1000;

export interface Skeleton {
  readonly bytes: Buffer;
  /** Marker text (as the part decodes) → decoded size of the real body. */
  readonly sizes: ReadonlyMap<string, number>;
}

interface Region {
  readonly start: number;
  readonly end: number;
  readonly marker: string;
}

const LF = 0x0a;

/**
 * The header block of the part in [start, limit): its text and where the body begins. Searched
 * within the part only: in a CRLF message "\n\n" never occurs, and an unbounded search would read
 * to the end of the message once per part.
 */
function headerEnd(raw: Buffer, start: number, limit: number): { headers: string; body: number } | null {
  const part = raw.subarray(start, limit);
  const crlf = part.indexOf('\r\n\r\n');
  const lf = part.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headers: raw.toString('latin1', start, start + crlf), body: start + crlf + 4 };
  if (lf >= 0) return { headers: raw.toString('latin1', start, start + lf), body: start + lf + 2 };
  return null;
}

function headerValue(headers: string, name: string): string | null {
  const match = new RegExp(`(?:^|\\n)${name}[ \\t]*:([^\\n]*(?:\\n[ \\t][^\\n]*)*)`, 'i').exec(headers);
  return match ? match[1]!.replace(/\r?\n[ \t]/g, ' ').trim() : null;
}

function boundaryOf(contentType: string): string | null {
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
  const other = [0x0d, 0x0a, 0x20, 0x09, 0x3d].reduce((sum, byte) => sum + countByte(region, byte), 0);
  return Math.floor(((region.length - other) * 3) / 4);
}

function countByte(region: Buffer, byte: number): number {
  let count = 0;
  for (let at = region.indexOf(byte); at >= 0; at = region.indexOf(byte, at + 1)) count++;
  return count;
}

/** Start offsets of the delimiter lines of `boundary` in [start, end), each at a line start. */
function delimiters(raw: Buffer, boundary: string, start: number, end: number): number[] {
  const marker = Buffer.from(`--${boundary}`, 'latin1');
  const found: number[] = [];
  for (let at = raw.indexOf(marker, start); at >= 0 && at < end && found.length < MAX_DELIMITERS; at = raw.indexOf(marker, at + marker.length)) {
    if (at !== start && raw[at - 1] !== LF) continue;
    // A delimiter line is the marker, perhaps "--", then only blanks: a line with anything else
    // after the marker is content to every MIME parser, and must stay content here.
    let rest = at + marker.length;
    if (raw[rest] === 0x2d && raw[rest + 1] === 0x2d) rest += 2;
    let lineEnd = raw.indexOf(LF, rest);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    if (/^[ \t\r]*$/.test(raw.toString('latin1', rest, lineEnd))) found.push(at);
  }
  return found;
}

function scan(raw: Buffer, start: number, end: number, depth: number, regions: Region[], sizes: Map<string, number>): void {
  if (depth > MAX_DEPTH) return;
  const head = headerEnd(raw, start, end);
  if (!head) return;
  const contentType = (headerValue(head.headers, 'content-type') ?? 'text/plain').toLowerCase();
  if (contentType.startsWith('multipart/')) {
    const boundary = boundaryOf(headerValue(head.headers, 'content-type') ?? '');
    if (!boundary) return;
    const marks = delimiters(raw, boundary, head.body, end);
    for (let i = 0; i + 1 < marks.length; i++) {
      const partStart = raw.indexOf(LF, marks[i]!) + 1;
      // The line break before the next delimiter belongs to the delimiter (RFC 2046 5.1.1).
      let partEnd = marks[i + 1]! - 1;
      if (partEnd > partStart && raw[partEnd - 1] === 0x0d) partEnd -= 1;
      if (partStart > 0 && partStart <= partEnd) scan(raw, partStart, partEnd, depth + 1, regions, sizes);
    }
    return;
  }
  const encoding = (headerValue(head.headers, 'content-transfer-encoding') ?? '').toLowerCase();
  const leafWorthStripping =
    encoding === 'base64' && !contentType.startsWith('text/') && !contentType.startsWith('message/') && end - head.body >= MIN_STRIP_BYTES;
  if (!leafWorthStripping) return;
  const size = base64DecodedSize(raw, head.body, end);
  if (size === null) return;
  const marker = `kotak-stripped-${MARKER_NONCE}-${regions.length}`;
  regions.push({ start: head.body, end, marker });
  sizes.set(marker, size);
}

export function stripAttachmentBodies(raw: Buffer): Skeleton {
  const regions: Region[] = [];
  const sizes = new Map<string, number>();
  scan(raw, 0, raw.length, 0, regions, sizes);
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
