/**
 * MailHog's JSON shapes (github.com/mailhog/data, message.go) built from what Kotak stores: the
 * raw bytes and the SMTP envelope. Pure. Field names and nesting are MailHog's, since its clients
 * index into them directly (`mail.Content.Headers.Subject[0]`, `mail.Raw.From`, `mail.To[0].Mailbox`).
 *
 * The JSON is written as a sequence of pieces, never built whole. MailHog repeats bytes: the whole
 * message in `Raw.Data` and again in `Content.Body`, and every multipart's Body holds all of its
 * parts' bytes again (a part nested 31 deep is in the answer 33 times). So each Body is cut to
 * what `BodyLimits` allow, and a message that lost anything says `"Truncated": true` (`Size`
 * always gives the real length). Ordinary mail in a single-message answer is never cut.
 */
import type { Envelope } from '../../mail/types.js';
import { parseStructure, type MimeNode } from './mime.js';

/** An SMTP path. Relays are source routes, which no client sends any more: always null (Go's empty slice). */
export interface MailhogPath {
  readonly Relays: string[] | null;
  readonly Mailbox: string;
  readonly Domain: string;
  readonly Params: string;
}

export interface StoredMessage {
  readonly id: string;
  /** ISO 8601. */
  readonly receivedAt: string;
  readonly envelope: Envelope;
  readonly raw: Buffer;
}

export interface BodyLimits {
  /** The most bytes of one part's Body, of the message's Body, and of Raw.Data. */
  readonly partBytes: number;
  /** The most bytes of one multipart's Body, which only repeats its parts' bytes. */
  readonly multipartBytes: number;
  /** The most Body and Raw.Data bytes of one message, all together. */
  readonly messageBytes: number;
  /** The most bytes of header sections read; parts past it show no headers. */
  readonly headerBytes: number;
  /** The most parts split out; the rest stay inside their multipart's Body. */
  readonly maxParts: number;
}

const KB = 1024;
const MB = 1024 * KB;

/**
 * GET /api/v1/messages/{id}: every part whole, as MailHog gives it; only the multiparts' own Bodies
 * (copies of their parts) are cut. The answer stays within about three times the message's size.
 */
export const MESSAGE_LIMITS: BodyLimits = { partBytes: Infinity, multipartBytes: 64 * KB, messageBytes: Infinity, headerBytes: 4 * MB, maxParts: 1000 };

/**
 * Pages (/api/v2/messages, /api/v2/search, up to 250 messages): the first 64 KB of each Body,
 * 512 KB in all per message. Enough for the text, HTML and small attachments that clients read
 * from a page; GET /api/v1/messages/{id} has the rest.
 */
export const PAGE_LIMITS: BodyLimits = { partBytes: 64 * KB, multipartBytes: 64 * KB, messageBytes: 512 * KB, headerBytes: 256 * KB, maxParts: 1000 };

/** Text is decoded and escaped this many bytes at a time. */
const PIECE_BYTES = 64 * KB;

export function toPath(address: string): MailhogPath {
  const at = address.indexOf('@');
  return {
    Relays: null,
    Mailbox: at === -1 ? address : address.slice(0, at),
    Domain: at === -1 ? '' : address.slice(at + 1),
    Params: '',
  };
}

/** Body bytes left for one message. */
class Allowance {
  truncated = false;
  constructor(private left: number) {}

  /** Where to cut [start, end) to take at most `cap` bytes of what is left. */
  cut(raw: Buffer, start: number, end: number, cap: number): number {
    const take = Math.min(end - start, cap, this.left);
    if (take === end - start) {
      this.left -= take;
      return end;
    }
    this.truncated = true;
    const at = charBoundary(raw, start, start + take);
    this.left -= at - start;
    return at;
  }
}

/** `at`, or moved back to the start of the UTF-8 character it falls inside. */
function charBoundary(raw: Buffer, start: number, at: number): number {
  let cut = at;
  for (let steps = 0; steps < 3 && cut > start && (raw[cut]! & 0xc0) === 0x80; steps++) cut--;
  return (raw[cut]! & 0xc0) === 0x80 ? at : cut;
}

/** raw[start, end) decoded as UTF-8, as one JSON string, in pieces. */
function* jsonText(raw: Buffer, start: number, end: number): Generator<string> {
  yield '"';
  for (let at = start; at < end; ) {
    let next = Math.min(at + PIECE_BYTES, end);
    if (next < end) next = charBoundary(raw, at, next);
    if (next <= at) next = Math.min(at + PIECE_BYTES, end);
    yield JSON.stringify(raw.toString('utf8', at, next)).slice(1, -1);
    at = next;
  }
  yield '"';
}

function* body(raw: Buffer, node: MimeNode, limits: BodyLimits, allowance: Allowance): Generator<string> {
  const cap = node.parts === null ? limits.partBytes : limits.multipartBytes;
  yield* jsonText(raw, node.bodyStart, allowance.cut(raw, node.bodyStart, node.end, cap));
}

/** A MailHog Content: Headers, Body (still transfer-encoded), Size (bytes of the part), MIME. */
function* content(raw: Buffer, node: MimeNode, limits: BodyLimits, allowance: Allowance): Generator<string> {
  yield `{"Headers":${JSON.stringify(node.headers)},"Body":`;
  yield* body(raw, node, limits, allowance);
  yield `,"Size":${node.end - node.start},"MIME":`;
  yield* mime(raw, node, limits, allowance);
  yield '}';
}

function* mime(raw: Buffer, node: MimeNode, limits: BodyLimits, allowance: Allowance): Generator<string> {
  if (node.parts === null) {
    yield 'null';
    return;
  }
  yield '{"Parts":[';
  for (const [index, part] of node.parts.entries()) {
    if (index > 0) yield ',';
    yield* content(raw, part, limits, allowance);
  }
  yield ']}';
}

/**
 * One message in MailHog's shape, as JSON pieces: ID, From, To, Content (the whole message; at this
 * level MailHog keeps `Content.MIME` null and puts the parts in `MIME`), Created (RFC 3339), MIME,
 * Raw (the SMTP transaction: MAIL FROM, every RCPT TO, the message, the HELO name).
 */
export function* mailhogMessageJson(message: StoredMessage, limits: BodyLimits): Generator<string> {
  const { raw } = message;
  const { mailFrom, rcptTo, heloName } = message.envelope;
  const { root, partsOmitted } = parseStructure(raw, { maxParts: limits.maxParts, maxHeaderBytes: limits.headerBytes });
  const allowance = new Allowance(limits.messageBytes);
  yield `{"ID":${JSON.stringify(message.id)},"From":${JSON.stringify(toPath(mailFrom))},"To":${JSON.stringify(rcptTo.map(toPath))}`;
  yield `,"Content":{"Headers":${JSON.stringify(withReturnPath(root.headers, mailFrom))},"Body":`;
  yield* body(raw, root, limits, allowance);
  yield `,"Size":${raw.length},"MIME":null},"Created":${JSON.stringify(message.receivedAt)},"MIME":`;
  yield* mime(raw, root, limits, allowance);
  yield `,"Raw":{"From":${JSON.stringify(mailFrom)},"To":${JSON.stringify(rcptTo)},"Data":`;
  yield* jsonText(raw, 0, allowance.cut(raw, 0, raw.length, limits.partBytes));
  yield `,"Helo":${JSON.stringify(heloName)}}`;
  // Not MailHog's: says that a Body above is shorter than its Size.
  yield allowance.truncated || partsOmitted ? ',"Truncated":true}' : '}';
}

/**
 * MailHog records the envelope sender as a Return-Path header, as a delivering MTA does, and tests
 * written against it read the bounce address there.
 */
function withReturnPath(headers: Record<string, string[]>, mailFrom: string): Record<string, string[]> {
  const returnPath = `<${mailFrom}>`;
  const entries = Object.entries(headers);
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'return-path');
  // As MailHog does, a Return-Path already in the message keeps its value and gains this one.
  return Object.fromEntries(
    name === undefined ? [...entries, ['Return-Path', [returnPath]]] : entries.map(([key, values]) => [key, key === name ? [...values, returnPath] : values]),
  );
}
