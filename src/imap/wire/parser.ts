/**
 * Parses one framed IMAP command (src/imap/wire/command-reader.ts: literals inline) into its tag,
 * name and arguments as ImapValue trees (RFC 3501 section 9). Hand-written: the grammar is small,
 * and owning it means every limit is ours. Lenient where clients differ in harmless ways, strict
 * where a wrong guess would misread a command; every failure is an ImapParseError.
 */
import type { ImapValue } from './values.js';

export interface ParsedCommand {
  readonly tag: string;
  /** Upper case: `FETCH`, `APPEND`; for `UID FETCH` this is `FETCH` with `uid` true. */
  readonly name: string;
  readonly uid: boolean;
  readonly args: readonly ImapValue[];
}

export class ImapParseError extends Error {
  /** The command's tag when it could be read (the BAD is tagged then), else null (`* BAD`). */
  readonly tag: string | null;

  constructor(message: string, tag: string | null) {
    super(message);
    this.name = 'ImapParseError';
    this.tag = tag;
  }
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x28;
const CLOSE = 0x29;
const LBRACE = 0x7b;
const TILDE = 0x7e;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LT = 0x3c;
/** Lists nested deeper than this are refused (nothing in IMAP nests near it). */
const MAX_DEPTH = 16;
/** Fetch attributes that take a `[section]` and `<partial>`. */
const SECTIONED = /^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)$/i;

/** True for octets that end an atom (RFC 3501 atom-specials, less those list patterns use). */
function endsAtom(octet: number, inSection: boolean): boolean {
  return octet === SP || octet === OPEN || octet === CLOSE || octet === DQUOTE || octet === CR || octet === LF || octet < 0x20 || octet === 0x7f || (inSection && octet === RBRACKET);
}

class Cursor {
  at = 0;
  constructor(
    readonly bytes: Buffer,
    readonly tag: string | null,
  ) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  peek(): number {
    return this.bytes[this.at] ?? -1;
  }

  fail(message: string): never {
    throw new ImapParseError(message, this.tag);
  }
}

/** Tag and command name only, for a reply to a command whose arguments will not be read. */
export function readTag(bytes: Buffer): string | null {
  const space = bytes.indexOf(SP);
  const tag = (space < 0 ? bytes : bytes.subarray(0, space)).toString('latin1');
  return isValidTag(tag) ? tag : null;
}

function isValidTag(tag: string): boolean {
  // tag = 1*<any ASTRING-CHAR except "+">
  return tag.length > 0 && tag.length <= 64 && /^[\x21-\x7e]+$/.test(tag) && !/[+(){%*"\\]/.test(tag);
}

export function parseCommand(bytes: Buffer): ParsedCommand {
  const tag = readTag(bytes);
  if (tag === null) throw new ImapParseError('a command starts with a tag', null);
  const cursor = new Cursor(bytes, tag);
  cursor.at = tag.length;
  if (cursor.peek() !== SP) cursor.fail('a command name must follow the tag');
  cursor.at += 1;
  let name = readWord(cursor);
  let uid = false;
  if (name === 'UID') {
    if (cursor.peek() !== SP) cursor.fail('UID needs a command');
    cursor.at += 1;
    name = readWord(cursor);
    uid = true;
  }
  const args: ImapValue[] = [];
  while (!cursor.done) {
    if (cursor.peek() !== SP) cursor.fail('arguments are separated by one space');
    cursor.at += 1;
    args.push(readValue(cursor, 0, false));
  }
  return { tag, name, uid, args };
}

function readWord(cursor: Cursor): string {
  const start = cursor.at;
  while (!cursor.done && /[A-Za-z0-9]/.test(String.fromCharCode(cursor.peek()))) cursor.at += 1;
  if (cursor.at === start) cursor.fail('a command name is letters');
  if (!cursor.done && cursor.peek() !== SP) cursor.fail('a command name is letters');
  return cursor.bytes.toString('latin1', start, cursor.at).toUpperCase();
}

function readValue(cursor: Cursor, depth: number, inSection: boolean): ImapValue {
  const octet = cursor.peek();
  if (octet === OPEN) return readList(cursor, depth + 1, inSection);
  if (octet === DQUOTE) return readQuoted(cursor);
  if (octet === LBRACE || (octet === TILDE && cursor.bytes[cursor.at + 1] === LBRACE)) return readLiteral(cursor);
  return readAtom(cursor, depth, inSection);
}

function readList(cursor: Cursor, depth: number, inSection: boolean): ImapValue {
  if (depth > MAX_DEPTH) cursor.fail('lists nested too deep');
  cursor.at += 1; // (
  const items: ImapValue[] = [];
  for (;;) {
    if (cursor.done) cursor.fail('a list is not closed');
    if (cursor.peek() === CLOSE) {
      cursor.at += 1;
      return { kind: 'list', items };
    }
    if (items.length > 0) {
      if (cursor.peek() !== SP) cursor.fail('list items are separated by one space');
      cursor.at += 1;
    }
    items.push(readValue(cursor, depth, inSection));
  }
}

function readQuoted(cursor: Cursor): ImapValue {
  cursor.at += 1; // "
  const out: number[] = [];
  for (;;) {
    if (cursor.done) cursor.fail('a quoted string is not closed');
    const octet = cursor.peek();
    cursor.at += 1;
    if (octet === DQUOTE) return { kind: 'string', value: Buffer.from(out), literal: false };
    if (octet === CR || octet === LF) cursor.fail('a quoted string cannot hold CR or LF (send a literal)');
    if (octet === BACKSLASH) {
      const escaped = cursor.peek();
      if (escaped !== DQUOTE && escaped !== BACKSLASH) cursor.fail('only \\" and \\\\ are escapes in a quoted string');
      out.push(escaped);
      cursor.at += 1;
      continue;
    }
    out.push(octet);
  }
}

function readLiteral(cursor: Cursor): ImapValue {
  if (cursor.peek() === TILDE) cursor.at += 1;
  const match = /^\{(\d{1,20})(\+?)\}\r\n/.exec(cursor.bytes.toString('latin1', cursor.at, cursor.at + 26));
  if (!match) cursor.fail('a literal is {n} and CRLF');
  const size = Number(match[1]);
  const start = cursor.at + match[0].length;
  if (!Number.isSafeInteger(size) || start + size > cursor.bytes.length) cursor.fail('a literal is shorter than announced');
  cursor.at = start + size;
  return { kind: 'string', value: cursor.bytes.subarray(start, start + size), literal: true };
}

function readAtom(cursor: Cursor, depth: number, inSection: boolean): ImapValue {
  const start = cursor.at;
  while (!cursor.done && !endsAtom(cursor.peek(), inSection) && !(cursor.peek() === LBRACKET && SECTIONED.test(cursor.bytes.toString('latin1', start, cursor.at)))) cursor.at += 1;
  if (cursor.at === start) cursor.fail(cursor.done ? 'an argument is missing' : `unexpected ${describe(cursor.peek())}`);
  const value = cursor.bytes.toString('utf8', start, cursor.at);
  if (cursor.peek() !== LBRACKET) return { kind: 'atom', value };
  cursor.at += 1; // [
  const section: ImapValue[] = [];
  for (;;) {
    if (cursor.done) cursor.fail('a section is not closed with ]');
    if (cursor.peek() === RBRACKET) break;
    if (section.length > 0) {
      if (cursor.peek() !== SP) cursor.fail('section items are separated by one space');
      cursor.at += 1;
    }
    section.push(readValue(cursor, depth + 1, true));
  }
  cursor.at += 1; // ]
  if (cursor.peek() !== LT) return { kind: 'atom', value, section };
  const partial = /^<(\d{1,10})(?:\.(\d{1,10}))?>/.exec(cursor.bytes.toString('latin1', cursor.at, cursor.at + 24));
  if (!partial) cursor.fail('a partial range is <start.length>');
  cursor.at += partial[0].length;
  const length = partial[2] === undefined ? null : Number(partial[2]);
  return { kind: 'atom', value, section, partial: { start: Number(partial[1]), length } };
}

function describe(octet: number): string {
  return octet >= 0x21 && octet <= 0x7e ? `"${String.fromCharCode(octet)}"` : `octet 0x${octet.toString(16).padStart(2, '0')}`;
}
