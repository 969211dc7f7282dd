/**
 * Raw RFC 5322 bytes → ParsedMessage. Attachment bodies are stripped first (./skeleton.ts); what
 * remains goes to the fast parser (./fast-parse.ts) when it is a shape that one handles, and to
 * mailparser's streaming MailParser otherwise. Pure CPU work with no I/O (see src/parse/ for where
 * it runs). MailParser rather than simpleParser, because simpleParser buffers and hashes every
 * attachment and rewrites cid: links into data: URIs; the summary and the index need neither.
 */
import { createHash } from 'node:crypto';
import { MailParser } from 'mailparser';
import type { AddressObject, EmailAddress, HeaderLines, HeaderValue, Headers } from 'mailparser';
import { htmlToText, makeSnippet } from './html-text.js';
import { NO_LIMITS, parseSimpleMessage } from './fast-parse.js';
import { headerFromLine, textOfBinaryLine } from './header-line.js';
import { MAX_MARKER_BYTES, stripAttachmentBodies, type Skeleton } from './skeleton.js';
import type { Address, AttachmentInfo, Header, ParsedMessage } from './types.js';

const PARSER_OPTIONS = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  checksumAlgo: false,
} as const;

function flattenAddresses(list: readonly EmailAddress[], out: Address[]): void {
  for (const entry of list) {
    if (entry.group) flattenAddresses(entry.group, out);
    else if (entry.address || entry.name) out.push({ name: entry.name ?? '', address: entry.address ?? '' });
  }
}

function addresses(value: HeaderValue | undefined): Address[] {
  if (!value || typeof value !== 'object' || value instanceof Date) return [];
  const objects = (Array.isArray(value) ? value : [value]) as unknown[];
  const out: Address[] = [];
  for (const obj of objects) {
    if (obj && typeof obj === 'object' && Array.isArray((obj as AddressObject).value)) {
      flattenAddresses((obj as AddressObject).value, out);
    }
  }
  return out;
}

function firstString(value: HeaderValue | undefined): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return null;
}

/** Every header in source order, unfolded, with RFC 2047 encoded-words decoded. */
function headerList(lines: HeaderLines): Header[] {
  // mailparser reports the blank line of a message without headers as a header; it is none.
  return lines.filter(({ line }) => line.trim() !== '').map(({ line }) => headerFromLine(textOfBinaryLine(line)));
}

/** mailparser substitutes the current time for an unreadable Date header; we say "none". */
function dateFromLines(lines: HeaderLines): number | null {
  const line = lines.find((l) => l.key === 'date')?.line;
  if (line === undefined) return null;
  const time = new Date(line.slice(line.indexOf(':') + 1).replace(/\r?\n(?=[ \t])/g, '').trim()).getTime();
  return Number.isNaN(time) ? null : time;
}

/**
 * Bounds on parsing. The structure is checked against --max-mime-parts and --max-header-size
 * before parsing (./mime-limits.ts); these tell the parsers the same numbers, so that mailparser's
 * own defaults (1000 parts, 1 MB per header) never refuse what the operator allowed.
 */
export interface ParseOptions {
  readonly maxParts?: number;
  readonly maxHeaderBytes?: number;
}

/** mailparser's own bound on one header section; raised, never lowered (ours is checked first). */
const MAILPARSER_MAX_HEAD_BYTES = 1024 * 1024;

/** The fast parser for the common shapes (./fast-parse.ts), mailparser for everything else. */
export async function parseMessage(raw: Uint8Array, options: ParseOptions = {}): Promise<ParsedMessage> {
  return parseSkeleton(stripAttachmentBodies(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)), options);
}

/** Parses a message whose attachment bodies were already stripped (mail/skeleton.ts). */
export async function parseSkeleton(skeleton: Skeleton, options: ParseOptions = {}): Promise<ParsedMessage> {
  const limits = options.maxParts === undefined ? undefined : { ...NO_LIMITS, maxParts: options.maxParts, maxHeaderBytes: options.maxHeaderBytes ?? Infinity };
  return parseSimpleMessage(skeleton.bytes, limits, skeleton.sizes) ?? mailparserOn(skeleton, options);
}

/** `stripAttachments: false` parses every byte, as the tests that check the stripping compare with. */
export function parseWithMailparser(raw: Uint8Array, options: { stripAttachments?: boolean } = {}): Promise<ParsedMessage> {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return mailparserOn(options.stripAttachments === false ? { bytes, sizes: new Map() } : stripAttachmentBodies(bytes));
}

function mailparserOn(skeleton: Skeleton, options: ParseOptions = {}): Promise<ParsedMessage> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({
      ...PARSER_OPTIONS,
      ...(options.maxParts === undefined ? {} : { maxChildNodes: options.maxParts }),
      // With room to spare: mailparser measures a header its own way, ours (checked first) decides.
      ...(options.maxHeaderBytes === undefined ? {} : { maxHeadSize: Math.max(MAILPARSER_MAX_HEAD_BYTES, options.maxHeaderBytes + 4096) }),
    });
    let headers: Headers = new Map();
    let lines: HeaderLines = [];
    let text: string | null = null;
    let html: string | null = null;
    const attachments: AttachmentInfo[] = [];
    let ordinal = 0;

    parser.on('headers', (h: Headers) => (headers = h));
    parser.on('headerLines', (l: HeaderLines) => (lines = l));
    parser.on('data', (data) => {
      if (data.type === 'text') {
        // The line break that ends the last line is transport framing, not part of the text.
        text = typeof data.text === 'string' ? data.text.replace(/[\r\n]+$/, '') : null;
        html = typeof data.html === 'string' ? data.html : null;
        return;
      }
      ordinal += 1;
      const id = data.partId ?? String(ordinal);
      let size = 0;
      const head: Buffer[] = [];
      data.content.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_MARKER_BYTES) head.push(chunk);
      });
      data.content.on('end', () => {
        const stripped = size <= MAX_MARKER_BYTES ? skeleton.sizes.get(Buffer.concat(head).toString('latin1')) : undefined;
        attachments.push({
          id,
          filename: data.filename ?? null,
          contentType: data.contentType || 'application/octet-stream',
          size: stripped ?? size,
          contentId: data.contentId ? data.contentId.replace(/^<|>$/g, '') : null,
          inline: Boolean(data.related) || data.contentDisposition === 'inline',
        });
        data.release?.();
      });
    });
    parser.on('error', reject);
    parser.on('end', () => {
      const htmlText = html !== null ? htmlToText(html) : null;
      const subject = headers.get('subject');
      resolve({
        from: addresses(headers.get('from'))[0] ?? null,
        to: addresses(headers.get('to')),
        cc: addresses(headers.get('cc')),
        bcc: addresses(headers.get('bcc')),
        replyTo: addresses(headers.get('reply-to')),
        subject: typeof subject === 'string' ? subject : '',
        messageId: firstString(headers.get('message-id'))?.trim().replace(/^<|>$/g, '') || null,
        date: dateFromLines(lines),
        text,
        html,
        htmlText,
        headers: headerList(lines),
        attachments,
        snippet: makeSnippet(text || htmlText || ''),
      });
    });
    parser.end(skeleton.bytes);
  });
}

export interface ExtractedPart {
  readonly content: Buffer;
  readonly contentType: string;
  readonly filename: string | null;
}

/** The decoded bytes of one attachment, found by its MIME part path; null when there is none. */
export async function extractPart(raw: Uint8Array, partId: string): Promise<ExtractedPart | null> {
  const chunks: Buffer[] = [];
  const found = await streamPart(raw, partId, (chunk) => chunks.push(chunk));
  return found && { ...found, content: Buffer.concat(chunks) };
}

/** The digests the inbox and Mailpit show for an attachment, lower-case hex. */
export interface PartChecksums {
  readonly md5: string;
  readonly sha1: string;
  readonly sha256: string;
}

/**
 * The checksums of one attachment's decoded bytes, hashed as mailparser streams them out (never
 * holding the whole part); null when there is no such part.
 */
export async function partChecksums(raw: Uint8Array, partId: string): Promise<PartChecksums | null> {
  const hashes = { md5: createHash('md5'), sha1: createHash('sha1'), sha256: createHash('sha256') };
  const found = await streamPart(raw, partId, (chunk) => {
    for (const hash of Object.values(hashes)) hash.update(chunk);
  });
  return found && { md5: hashes.md5.digest('hex'), sha1: hashes.sha1.digest('hex'), sha256: hashes.sha256.digest('hex') };
}

/**
 * Hands each decoded chunk of the part at `partId` to `onChunk` and answers its type and name once
 * it has ended; null when there is no such part. Other parts are read past without being kept.
 */
function streamPart(raw: Uint8Array, partId: string, onChunk: (chunk: Buffer) => void): Promise<Omit<ExtractedPart, 'content'> | null> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser(PARSER_OPTIONS);
    let found: Omit<ExtractedPart, 'content'> | null = null;
    let index = 0;
    parser.on('data', (data) => {
      if (data.type !== 'attachment') return;
      index += 1;
      const matches = (data.partId ?? String(index)) === partId;
      data.content.on('data', (chunk: Buffer) => {
        if (matches) onChunk(chunk);
      });
      data.content.on('end', () => {
        if (matches) found = { contentType: data.contentType || 'application/octet-stream', filename: data.filename ?? null };
        data.release?.();
      });
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(found));
    parser.end(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  });
}
