/**
 * parseStructure (src/compat/mailhog/mime.ts) rebuilt on @zone-eu/mailsplit's Splitter, the
 * splitter mailparser uses, as issue 15 proposed. Kept as the candidate that
 * bench/mailhog-structure.ts checks against the hand-written scanner and times; not used by Kotak.
 *
 * How the byte ranges come out of the Splitter (5.4.x):
 * - The whole message is written at once, so every `data`/`body` value is a view of that one
 *   Buffer: its byteOffset is its position in the message.
 * - `push` is overridden, so each chunk is seen while the Splitter is still at it: a node's
 *   `_boundary` and `multipart` can be set from our own reading of its headers (MailHog's rules,
 *   the limits) before the Splitter reads the node's first body line.
 * - A part starts after the delimiter line that the Splitter emits, alone, labelled with the new
 *   node; that delimiter also ends the parts still open under the new node's parent.
 * - A closing delimiter is merged into whatever `data` came before it (a child's epilogue arrives
 *   with its parent's `--b--` as one chunk labelled with the child), so `data` chunks are searched
 *   for the closing delimiters of the open multiparts: a bounded search inside that chunk only.
 *   `body` chunks (the bulk of a message) hold no delimiter and are not looked at.
 */
import mailsplit from '@zone-eu/mailsplit';
import type { MimeNode as SplitNode, SplitterChunk } from '@zone-eu/mailsplit';
import { finished } from 'node:stream/promises';
import libmime from 'libmime';
import { firstValue, MAX_DEPTH, parseHeaders, toRecord, type HeaderMap, type MimeNode, type MimeTree, type StructureLimits } from '../src/compat/mailhog/mime.js';

interface Frame {
  readonly start: number;
  bodyStart: number;
  end: number;
  headers: Record<string, string[]>;
  parts: Frame[] | null;
  readonly depth: number;
  /** The delimiter this multipart's parts are split on, as bytes; null for a leaf. */
  boundary: Buffer | null;
  /** What this part's header section counted against maxHeaderBytes. */
  headerBytes: number;
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

export async function splitStructure(raw: Buffer, limits: StructureLimits): Promise<MimeTree> {
  const state = { parts: 0, headerBytes: 0, partsOmitted: false };
  /** The open parts, outermost first. */
  const open: Frame[] = [];
  const frames = new WeakMap<SplitNode, Frame>();
  /** Parts past maxParts: open while the Splitter is in them, in no multipart's parts. */
  const omitted = new WeakSet<Frame>();
  // Set in a callback: the cast keeps TypeScript from narrowing it to null for good.
  let root: Frame | null = null as Frame | null;

  const at = (view: Buffer): number => {
    if (view.buffer !== raw.buffer) throw new Error('mailsplit copied a chunk; offsets are lost');
    return view.byteOffset - raw.byteOffset;
  };
  const closeAbove = (depthIndex: number, delimiterAt: number): void => {
    while (open.length > depthIndex + 1) {
      const frame = open.pop()!;
      frame.end = lineBreakBefore(raw, delimiterAt, frame.start);
      // The empty line that ended the headers was the line break of this delimiter: to MailHog
      // (and the scanner) the part has no empty line, so no headers.
      if (frame.bodyStart > frame.end) {
        state.headerBytes -= frame.headerBytes;
        Object.assign(frame, { bodyStart: frame.start, headers: {}, parts: null, boundary: null, headerBytes: 0 });
      }
    }
  };

  /** The node's headers as MailHog reads them; decides whether the Splitter splits it further. */
  const onNode = (node: SplitNode): void => {
    let frame: Frame | undefined;
    if (node.parentNode === false) {
      frame = { start: 0, bodyStart: 0, end: raw.length, headers: {}, parts: null, depth: 0, boundary: null, headerBytes: 0 };
      root = frame;
      frames.set(node, frame);
      open.push(frame);
    } else frame = frames.get(node);
    node._boundary = false;
    node.multipart = false;
    if (!frame || omitted.has(frame)) return; // a part past maxParts: left unsplit inside its multipart
    const headerEnd = frame.start + node._headerlen;
    const blank = blankLineBefore(raw, frame.start, headerEnd);
    if (blank === null) return; // no empty line: MailHog calls everything body
    frame.bodyStart = headerEnd;
    const headerBytes = blank - frame.start;
    let headers: HeaderMap = new Map();
    if (state.headerBytes + headerBytes <= limits.maxHeaderBytes) {
      state.headerBytes += headerBytes;
      frame.headerBytes = headerBytes;
      headers = parseHeaders(raw.toString('utf8', frame.start, blank));
    } else state.partsOmitted = true;
    frame.headers = toRecord(headers);
    const type = firstValue(headers, 'content-type');
    if (frame.depth < MAX_DEPTH && type !== null && /^\s*multipart\//i.test(type)) {
      frame.parts = [];
      const boundary = libmime.parseHeaderValue(type).params.boundary;
      if (boundary) {
        frame.boundary = Buffer.from(boundary, 'utf8');
        node._boundary = frame.boundary;
        node.multipart = 'mixed';
      }
    }
  };

  /** A delimiter line opening a new part of `owner`: the chunk ends with it. */
  const onPartStart = (node: SplitNode, chunkStart: number, chunkEnd: number): void => {
    const owner = node.parentNode === false ? undefined : frames.get(node.parentNode);
    const ownerIndex = owner ? open.indexOf(owner) : -1;
    if (!owner || ownerIndex === -1) throw new Error('a part of a multipart that is not open');
    closeAbove(ownerIndex, delimiterStart(raw, lastLineStart(raw, chunkStart, chunkEnd)));
    const frame: Frame = { start: chunkEnd, bodyStart: chunkEnd, end: raw.length, headers: {}, parts: null, depth: owner.depth + 1, boundary: null, headerBytes: 0 };
    frames.set(node, frame);
    // Open either way, so that the open parts mirror the Splitter's nesting.
    open.push(frame);
    if (state.parts >= limits.maxParts) {
      state.partsOmitted = true;
      omitted.add(frame);
      return;
    }
    state.parts += 1;
    owner.parts!.push(frame);
  };

  /** Closing delimiters of open multiparts (not the innermost one's own) inside a `data` chunk. */
  const findClosings = (start: number, end: number): void => {
    const chunk = raw.subarray(start, end);
    for (let line = start; line < end; ) {
      const lf = chunk.indexOf(LF, line - start);
      const next = lf === -1 ? end : start + lf + 1;
      const lead = raw[line] === CR ? 1 : 0;
      if (raw[line + lead] === DASH && raw[line + lead + 1] === DASH) {
        for (let index = open.length - 2; index >= 0; index--) {
          const boundary = open[index]!.boundary;
          if (boundary && closesWith(raw, line + lead, next, boundary)) {
            closeAbove(index, line + lead);
            break;
          }
        }
      }
      line = next;
    }
  };

  const observe = (chunk: SplitterChunk): void => {
    if (chunk.type === 'node') {
      onNode(chunk);
      return;
    }
    if (!chunk.value || chunk.value.length === 0) return;
    const start = at(chunk.value);
    const end = start + chunk.value.length;
    if (chunk.type === 'data' && chunk.node.headers === false && !frames.has(chunk.node)) onPartStart(chunk.node, start, end);
    else if (chunk.type === 'data') findClosings(start, end);
  };

  const splitter = new ObservedSplitter(observe);
  splitter.resume();
  splitter.end(raw);
  await finished(splitter);
  const top = root ?? { start: 0, bodyStart: 0, end: raw.length, headers: {}, parts: null, depth: 0, boundary: null, headerBytes: 0 };
  return { root: toMimeNode(top), partsOmitted: state.partsOmitted };
}

/** The Splitter, reporting each chunk as it is made and passing on nothing but the end. */
class ObservedSplitter extends mailsplit.Splitter {
  constructor(private readonly observe: (chunk: SplitterChunk) => void) {
    super({ ignoreEmbedded: true, maxChildNodes: Infinity, maxHeadSize: Infinity });
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(null, encoding);
    this.observe(chunk as SplitterChunk);
    return true;
  }
}

function toMimeNode(frame: Frame): MimeNode {
  return { headers: frame.headers, start: frame.start, bodyStart: frame.bodyStart, end: frame.end, parts: frame.parts ? frame.parts.map(toMimeNode) : null };
}

/** Where the header block [start, end) ends without its closing empty line, or null if it has none. */
function blankLineBefore(raw: Buffer, start: number, end: number): number | null {
  if (end <= start || raw[end - 1] !== LF) return null;
  let blank = end - 1;
  if (blank > start && raw[blank - 1] === CR) blank -= 1;
  return blank === start || raw[blank - 1] === LF ? blank : null;
}

/** The start of the last line in [start, end) (which ends with a line break). */
function lastLineStart(raw: Buffer, start: number, end: number): number {
  const nl = raw.lastIndexOf(LF, end - 2);
  return nl >= start ? nl + 1 : start;
}

/** A delimiter line may begin with a stray CR (the Splitter accepts it); the delimiter is after it. */
function delimiterStart(raw: Buffer, lineStart: number): number {
  return raw[lineStart] === CR ? lineStart + 1 : lineStart;
}

/** Whether [at, lineEnd) is `--boundary--`, then SP/HTAB, then CRs and an LF (or the end). */
function closesWith(raw: Buffer, at: number, lineEnd: number, boundary: Buffer): boolean {
  let i = at + 2;
  if (lineEnd - i < boundary.length + 2) return false;
  if (raw.compare(boundary, 0, boundary.length, i, i + boundary.length) !== 0) return false;
  i += boundary.length;
  if (raw[i] !== DASH || raw[i + 1] !== DASH) return false;
  i += 2;
  while (i < lineEnd && (raw[i] === 0x20 || raw[i] === 0x09)) i++;
  while (i < lineEnd && raw[i] === CR) i++;
  if (i < lineEnd && raw[i] === LF) i++;
  return i === lineEnd;
}

/** The end of a part: before the CRLF (or LF) that precedes its delimiter. */
function lineBreakBefore(raw: Buffer, delimiterAt: number, partStart: number): number {
  let end = delimiterAt;
  if (end > partStart && raw[end - 1] === LF) end -= 1;
  if (end > partStart && raw[end - 1] === CR) end -= 1;
  return end;
}
