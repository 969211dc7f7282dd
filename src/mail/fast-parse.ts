/**
 * A fast parser for the shapes most application mail takes: a text part, or text + HTML
 * alternatives, inside mixed/related containers with attachments. It reads the raw bytes in one
 * synchronous pass with native Buffer searches, and uses the same building blocks as mailparser
 * (libmime for header values and encoded words; nodemailer's addressparser) with mailparser's
 * rules for what is body and what is attachment. Anything outside those shapes, or anything odd
 * (8-bit headers, RFC 2231 names, flowed text, nested messages, missing boundaries, duplicated
 * structural headers), returns null and goes to mailparser. test/unit/fast-parse.test.ts checks
 * that both produce the same result on every message this one accepts.
 *
 * Why: mailparser's streaming machinery cost ~0.35 ms of CPU for a 1 KB message, more than the
 * rest of the intake pipeline together; this takes a few tens of microseconds.
 */
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { decodeWords, headerFromLine, parseHeaderValue } from './header-line.js';
import { htmlToText, makeSnippet } from './html-text.js';
import { parseSimpleAddresses } from './simple-addresses.js';
import { base64DecodedSize, MAX_MARKER_BYTES } from './skeleton.js';
import type { Address, AttachmentInfo, ParsedMessage } from './types.js';

/** Entities nested deeper than this (the parts of a top-level multipart are at depth 1) are declined. */
export const FAST_PARSE_MAX_DEPTH = 8;
const SUPPORTED_MULTIPART = new Set(['multipart/mixed', 'multipart/alternative', 'multipart/related']);
const SUPPORTED_ENCODINGS = new Set(['', '7bit', '8bit', 'binary', 'base64', 'quoted-printable']);
/** Headers that must appear at most once for this parser to agree with mailparser. */
const SINGLE_HEADERS = new Set(['subject', 'from', 'to', 'cc', 'bcc', 'reply-to', 'message-id', 'date', 'content-type', 'content-transfer-encoding', 'content-disposition', 'content-id']);
const ADDRESS_HEADERS = ['from', 'to', 'cc', 'bcc', 'reply-to'] as const;

/**
 * Bounds on the work one message may cause. The defaults are for the SMTP thread (see
 * parse/pool.ts), where a slow parse would stall every connection: with them, any input is
 * parsed or declined within about a millisecond (hostile 60 KB address lists took 150 ms).
 */
export interface FastParseLimits {
  readonly maxHeaderLines: number;
  readonly maxHeaderBytes: number;
  readonly maxAddressBytes: number;
  readonly maxParts: number;
}

export const INLINE_LIMITS: FastParseLimits = { maxHeaderLines: 100, maxHeaderBytes: 16 * 1024, maxAddressBytes: 2048, maxParts: 32 };
export const NO_LIMITS: FastParseLimits = { maxHeaderLines: Infinity, maxHeaderBytes: Infinity, maxAddressBytes: Infinity, maxParts: Infinity };

class Unsupported extends Error {}
const bail = (): never => {
  throw new Unsupported();
};

interface RawHeader {
  readonly key: string;
  readonly line: string;
}

interface Head {
  readonly lines: RawHeader[];
  readonly bodyStart: number;
}

interface BodyPart {
  readonly type: 'text/plain' | 'text/html';
  readonly content: string;
  readonly alternativeParent: number | null;
}

interface Walk {
  readonly limits: FastParseLimits;
  /** Decoded sizes of attachment bodies replaced by markers (mail/skeleton.ts), by marker. */
  readonly strippedSizes: ReadonlyMap<string, number>;
  bodies: BodyPart[];
  attachments: AttachmentInfo[];
  nextContainer: number;
  parts: number;
}

/** The header block starting at `start`: raw folded lines, and where the body begins. */
function readHead(raw: Buffer, start: number, end: number, limits: FastParseLimits): Head {
  const lines: RawHeader[] = [];
  let pos = start;
  let physicalLines = 0;
  while (pos < end) {
    if (++physicalLines > limits.maxHeaderLines || pos - start > limits.maxHeaderBytes) bail();
    let nl = raw.indexOf(0x0a, pos);
    if (nl < 0 || nl >= end) nl = end;
    const lineEnd = nl > pos && raw[nl - 1] === 0x0d ? nl - 1 : nl;
    if (lineEnd === pos) return { lines, bodyStart: Math.min(nl + 1, end) };
    const text = raw.toString('latin1', pos, lineEnd);
    if (/[^\x09\x20-\x7e]/.test(text)) bail(); // 8-bit or control bytes: mailparser decides
    if (text[0] === ' ' || text[0] === '\t') {
      const last = lines.pop() ?? bail();
      lines.push({ key: last.key, line: `${last.line}\r\n${text}` });
    } else {
      const colon = text.indexOf(':');
      if (colon <= 0 || !/^[!-9;-~]+$/.test(text.slice(0, colon).trimEnd())) bail();
      lines.push({ key: text.slice(0, colon).trim().toLowerCase(), line: text });
    }
    pos = nl + 1;
  }
  return bail(); // no blank line before the end: headers only, or truncated
}

/** A structured header's value, unfolded as mailparser (libmime) does: each fold becomes one space. */
function first(head: Head, key: string): string | null {
  const found = head.lines.find((l) => l.key === key);
  if (!found) return null;
  const line = found.line.replace(/(?:\r?\n|\r)[ \t]*/g, ' ');
  return line.slice(line.indexOf(':') + 1).trim();
}

function checkSingles(head: Head): void {
  const seen = new Set<string>();
  for (const { key } of head.lines) {
    if (!SINGLE_HEADERS.has(key)) continue;
    if (seen.has(key)) bail();
    seen.add(key);
  }
}

function parseAddresses(value: string | null, limits: FastParseLimits): Address[] {
  if (value === null) return [];
  if (value.length > limits.maxAddressBytes) bail();
  const simple = parseSimpleAddresses(value);
  if (simple) return simple.map(({ name, address }) => ({ name: decodeWords(name), address }));
  const out: Address[] = [];
  const visit = (list: ReturnType<typeof addressparser>): void => {
    for (const entry of list) {
      if ('group' in entry && entry.group) {
        visit(entry.group);
        continue;
      }
      const address = 'address' in entry ? entry.address ?? '' : '';
      // Encoded words in the address, or punycode domains: mailparser's special handling applies.
      if (address.includes('=?') || /@xn--/i.test(address)) bail();
      const name = decodeWords((entry.name || '').toString().trim());
      if (address || name) out.push({ name, address });
    }
  };
  visit(addressparser(value));
  return out;
}

function decodeBody(raw: Buffer, start: number, end: number, encoding: string): Buffer {
  const body = raw.subarray(start, end);
  if (encoding === 'base64') {
    // Decoders disagree on anything but clean base64 (text after the padding, stray symbols).
    const text = body.toString('latin1').replace(/[\s]+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) bail();
    return Buffer.from(text, 'base64');
  }
  if (encoding === 'quoted-printable') {
    // RFC 2045 6.7: whitespace at the end of a line is transport padding, "=" at the end a soft break.
    const text = body.toString('latin1').replace(/[ \t]+(?=\r?\n|$)/g, '').replace(/=\r?\n/g, '');
    if (/=(?![0-9A-Fa-f]{2})|\r(?!\n)/.test(text)) bail(); // a stray "=" or bare CR: decoders differ
    return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  }
  return body;
}

/** UTF-8 and ASCII only: other charsets go to mailparser, with its charset table and fixes. */
function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const name = (charset ?? 'utf-8').toLowerCase().replace(/[^a-z0-9]+/g, '');
  return name === 'ascii' || name === 'usascii' || name === 'utf8' ? bytes.toString() : bail();
}

/** Start offsets of the delimiter lines of `boundary` in [start, end), each at a line start. */
function delimiterLines(raw: Buffer, boundary: string, start: number, end: number, maxParts: number): { at: number; close: boolean }[] {
  const marker = Buffer.from(`--${boundary}`, 'latin1');
  const found: { at: number; close: boolean }[] = [];
  // Searched within the part only: a boundary that does not occur must not cost the rest of the message.
  const region = raw.subarray(0, end);
  for (let at = region.indexOf(marker, start); at >= 0; at = region.indexOf(marker, at + marker.length)) {
    if (at !== start && raw[at - 1] !== 0x0a) continue;
    const after = at + marker.length;
    const close = raw[after] === 0x2d && raw[after + 1] === 0x2d;
    // Only whitespace may follow the delimiter on its line; anything else is not a delimiter.
    let nl = raw.indexOf(0x0a, after);
    if (nl < 0 || nl > end) nl = end;
    if (!/^[ \t\r]*$/.test(raw.toString('latin1', close ? after + 2 : after, nl))) bail();
    found.push({ at, close });
    if (close) break;
    if (found.length > maxParts) bail();
  }
  return found;
}

/** `head`: the entity's header when the caller has read it already (the message's own). */
function walk(raw: Buffer, start: number, end: number, partId: number[], parents: string[], alternativeParent: number | null, state: Walk, head?: Head): void {
  if (parents.length > FAST_PARSE_MAX_DEPTH || ++state.parts > state.limits.maxParts) bail();
  if (!head) {
    head = readHead(raw, start, end, state.limits);
    checkSingles(head);
  }
  const dispositionHeader = parseHeaderValue(first(head, 'content-disposition') ?? '');
  const typeHeader = first(head, 'content-type');
  // Without a Content-Type, parsers guess one from the disposition and file name: leave it to them.
  if (typeHeader === null && (parents.length > 0 || first(head, 'content-disposition') !== null)) bail();
  const contentType = parseHeaderValue(typeHeader ?? 'text/plain');
  const type = (contentType.value || '').toLowerCase().trim();
  if ((contentType.decodedParams?.length ?? 0) > 0 || (dispositionHeader.decodedParams?.length ?? 0) > 0) bail();

  if (type.startsWith('multipart/')) {
    if (!SUPPORTED_MULTIPART.has(type)) bail();
    const boundary = contentType.params.boundary ?? bail();
    const marks = delimiterLines(raw, boundary, head.bodyStart, end, state.limits.maxParts);
    if (marks.length < 2 || !marks[marks.length - 1]!.close) bail();
    const container = state.nextContainer++;
    for (let i = 0; i + 1 < marks.length; i++) {
      const partStart = raw.indexOf(0x0a, marks[i]!.at) + 1;
      let partEnd = marks[i + 1]!.at - 1; // the line break before a delimiter belongs to it
      if (partEnd > partStart && raw[partEnd - 1] === 0x0d) partEnd -= 1;
      if (partStart <= 0 || partEnd < partStart) bail();
      const childAlternative = type === 'multipart/alternative' ? container : alternativeParent;
      walk(raw, partStart, partEnd, [...partId, i + 1], [...parents, type], childAlternative, state);
    }
    return;
  }

  // A leaf with a boundary parameter is read as a container by some parsers: ambiguous, decline.
  if (contentType.params.boundary !== undefined) bail();
  if (parents.length === 0 && type !== 'text/plain' && type !== 'text/html') bail();
  if (type.startsWith('message/') || type === '') bail();
  const encoding = (first(head, 'content-transfer-encoding') ?? '').replace(/\([^)]*\)/g, '').toLowerCase().trim();
  if (!SUPPORTED_ENCODINGS.has(encoding)) bail();
  let disposition = (dispositionHeader.value || '').toLowerCase().trim();
  if (disposition.includes('=?')) bail();
  const isText = type === 'text/plain' || type === 'text/html';
  if (disposition && disposition !== 'attachment' && disposition !== 'inline') disposition = 'attachment';
  if (!disposition) disposition = isText ? 'inline' : 'attachment';
  const rawFilename: string | undefined = dispositionHeader.params.filename || contentType.params.name;

  if (isText && disposition === 'inline') {
    if (type === 'text/plain' && (contentType.params.format ?? '').toLowerCase().trim() === 'flowed') bail();
    const content = decodeCharset(decodeBody(raw, head.bodyStart, end, encoding), contentType.params.charset).replace(/\r?\n/g, '\n');
    state.bodies.push({ type, content, alternativeParent });
    return;
  }

  // Empty attachment bodies are where parsers disagree on the line break before the delimiter.
  if (encoding === 'quoted-printable' || parents.length === 0 || end <= head.bodyStart) bail();
  const filename = rawFilename ? decodeWords(rawFilename) : null;
  let attachmentType = type;
  if (type === 'application/octet-stream' && filename) attachmentType = libmime.detectMimeType(filename) || 'application/octet-stream';
  const contentIdHeader = first(head, 'content-id');
  const size = encoding === 'base64' ? strippedSize(raw, head.bodyStart, end, state) ?? base64DecodedSize(raw, head.bodyStart, end) ?? bail() : end - head.bodyStart;
  state.attachments.push({
    id: partId.join('.'),
    filename,
    contentType: attachmentType,
    size,
    contentId: contentIdHeader ? contentIdHeader.trim().replace(/^<|>$/g, '').trim() || null : null,
    inline: (contentIdHeader !== null && parents.includes('multipart/related')) || disposition === 'inline',
  });
}

/** The real size of a body that mail/skeleton.ts replaced by a marker; undefined for any other. */
function strippedSize(raw: Buffer, start: number, end: number, state: Walk): number | undefined {
  if (state.strippedSizes.size === 0 || end - start > 2 * MAX_MARKER_BYTES) return undefined;
  return state.strippedSizes.get(decodeBody(raw, start, end, 'base64').toString('latin1'));
}

function messageId(value: string | null): string | null {
  const decoded = value === null ? '' : decodeWords(value).trim();
  return decoded.replace(/^<|>$/g, '') || null;
}

function dateOf(value: string | null): number | null {
  if (value === null) return null;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? null : time;
}

/** The parsed message, or null when the message is not one of the shapes handled here. */
export function parseSimpleMessage(raw: Buffer, limits: FastParseLimits = NO_LIMITS, strippedSizes: ReadonlyMap<string, number> = new Map()): ParsedMessage | null {
  try {
    const root = readHead(raw, 0, raw.length, limits);
    checkSingles(root);
    const state: Walk = { limits, strippedSizes, bodies: [], attachments: [], nextContainer: 0, parts: 0 };
    walk(raw, 0, raw.length, [], [], null, state, root);

    // An empty body part counts for nothing in mailparser, except in rules too intricate to
    // mirror: only a message whose one body part is empty is taken (it has no text).
    if (state.bodies.some((b) => b.content === '') && state.bodies.length > 1) return null;
    const bodies = state.bodies.filter((b) => b.content !== '');
    const plain = bodies.filter((b) => b.type === 'text/plain');
    const html = bodies.filter((b) => b.type === 'text/html');
    // No body, exactly one text, or one text and one HTML that are alternatives of each other.
    if (plain.length > 1 || html.length > 1 || (html.length === 1 && plain.length === 0)) return null;
    if (html.length === 1 && (html[0]!.alternativeParent === null || html[0]!.alternativeParent !== plain[0]!.alternativeParent)) return null;

    const text = plain.length === 1 ? plain[0]!.content.replace(/[\r\n]+$/, '') : null;
    const htmlBody = html[0]?.content ?? null;
    const htmlText = htmlBody !== null ? htmlToText(htmlBody) : null;
    const addresses = Object.fromEntries(ADDRESS_HEADERS.map((key) => [key, parseAddresses(first(root, key), limits)])) as Record<(typeof ADDRESS_HEADERS)[number], Address[]>;
    return {
      from: addresses.from[0] ?? null,
      to: addresses.to,
      cc: addresses.cc,
      bcc: addresses.bcc,
      replyTo: addresses['reply-to'],
      subject: decodeWords(first(root, 'subject') ?? ''),
      messageId: messageId(first(root, 'message-id')),
      date: dateOf(first(root, 'date')),
      text,
      html: htmlBody,
      htmlText,
      headers: root.lines.map(({ line }) => headerFromLine(line)),
      attachments: state.attachments,
      snippet: makeSnippet(text || htmlText || ''),
    };
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
}
