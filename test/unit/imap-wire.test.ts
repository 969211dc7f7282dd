/**
 * The IMAP wire layer without sockets: framing (lines, literals and their caps), the parser's
 * value trees, sequence sets, and the encoder's choice between quoted strings and literals.
 */
import { describe, expect, it } from 'vitest';
import { CommandReader, type ReaderEvent, type ReaderLimits } from '../../src/imap/wire/command-reader.js';
import { compact, encodeString, encodeValue, atom } from '../../src/imap/wire/encode.js';
import { matchesPattern } from '../../src/imap/commands/folders.js';
import { ImapParseError, parseCommand } from '../../src/imap/wire/parser.js';
import { formatSequenceSet, inSequenceSet, parseSequenceSet } from '../../src/imap/wire/sequence-set.js';
import type { ImapValue } from '../../src/imap/wire/values.js';

const limits: ReaderLimits = { maxLineOctets: 100, maxSkipOctets: 1000, maxLinesPerCommand: 8, literalCap: (first) => (/APPEND/.test(first.toString()) ? 500 : 20) };
const read = (...chunks: string[]): ReaderEvent[] => {
  const reader = new CommandReader(limits);
  return chunks.flatMap((chunk) => reader.push(Buffer.from(chunk, 'latin1')));
};
const commandText = (event: ReaderEvent | undefined): string => (event?.kind === 'command' ? event.bytes.toString('latin1') : `<${event?.kind}>`);

/** A value tree as plain data, for toEqual. */
const plain = (value: ImapValue): unknown =>
  value.kind === 'string' ? { s: value.value.toString('latin1'), literal: value.literal } : value.kind === 'list' ? value.items.map(plain) : { ...value, section: value.section?.map(plain) };

describe('IMAP command framing', () => {
  it('splits lines, accepts bare LF, joins a command across chunks', () => {
    expect(read('a1 NOOP\r\na2 CAPA', 'BILITY\n').map(commandText)).toEqual(['a1 NOOP', 'a2 CAPABILITY']);
  });

  it('asks for a synchronising literal only when it fits, and keeps its bytes (CRLF inside) inline', () => {
    const events = read('a LOGIN {5}\r\n', 'us\r\nr {3}\r\npw!\r\n');
    expect(events.map((e) => e.kind)).toEqual(['continue', 'continue', 'command']);
    expect(commandText(events[2])).toBe('a LOGIN {5}\r\nus\r\nr {3}\r\npw!');
  });

  it('takes a LITERAL+ literal without a continuation', () => {
    const events = read('a LOGIN {2+}\r\nab {1+}\r\nc\r\n');
    expect(events.map(commandText)).toEqual(['a LOGIN {2+}\r\nab {1+}\r\nc']);
  });

  it('refuses a synchronising literal over the cap before a byte of it, per command (APPEND gets its own cap)', () => {
    const [refused] = read('a LOGIN {21}\r\n');
    expect(refused).toMatchObject({ kind: 'literal-refused', size: 21, cap: 20 });
    expect(read('b APPEND INBOX {500}\r\n')[0]?.kind).toBe('continue');
    expect(read('b APPEND INBOX {501}\r\n')[0]).toMatchObject({ kind: 'literal-refused', cap: 500 });
    // the command is over: the next line is a new command
    expect(read('a LOGIN {21}\r\nc NOOP\r\n').map((e) => e.kind)).toEqual(['literal-refused', 'command']);
  });

  it('treats a non-synchronising literal over the cap as a flood and reads nothing more', () => {
    expect(read('a LOGIN {21+}\r\n123456789012345678901\r\nb NOOP\r\n').map((e) => e.kind)).toEqual(['flood']);
  });

  it('reports an over-long line once, with its start for the tag, and stays in step', () => {
    const events = read(`t1 NOOP ${'x'.repeat(150)}\r\nt2 NOOP\r\n`);
    expect(events[0]).toMatchObject({ kind: 'too-long' });
    expect((events[0] as { head: Buffer }).head.toString().startsWith('t1 ')).toBe(true);
    expect(commandText(events[1])).toBe('t2 NOOP');
    const split = read(`t3 NOOP ${'x'.repeat(60)}`, `${'y'.repeat(60)}`, '\r\nt4 NOOP\r\n');
    expect(split[0]).toMatchObject({ kind: 'too-long' });
    expect((split[0] as { head: Buffer }).head.toString().startsWith('t3 ')).toBe(true);
    expect(commandText(split[1])).toBe('t4 NOOP');
  });

  it('cuts off a line that never ends', () => {
    expect(read('a '.repeat(400), 'b'.repeat(1000)).map((e) => e.kind)).toEqual(['flood']);
  });

  it('caps the lines of one command', () => {
    expect(read('a X {1+}\r\n1 {1+}\r\n2 {1+}\r\n3 {1+}\r\n4 {1+}\r\n5 {1+}\r\n6 {1+}\r\n7 {1+}\r\n8\r\n').map((e) => e.kind)).toEqual(['flood']);
  });
});

describe('IMAP command parser', () => {
  it('reads tag, name and UID commands', () => {
    expect(parseCommand(Buffer.from('a1 noop'))).toEqual({ tag: 'a1', name: 'NOOP', uid: false, args: [] });
    const uid = parseCommand(Buffer.from('x.2 UID fetch 1:* (FLAGS)'));
    expect([uid.tag, uid.name, uid.uid]).toEqual(['x.2', 'FETCH', true]);
  });

  it('reads atoms, quoted strings with escapes, literals, nested lists and NIL', () => {
    const parsed = parseCommand(Buffer.from('a APPEND "in \\"box\\"\\\\" (\\Seen $Label) "07-Dec-2026 09:40:00 +0000" {4}\r\nx\r\ny'));
    expect(parsed.args.map(plain)).toEqual([
      { s: 'in "box"\\', literal: false },
      [{ kind: 'atom', value: '\\Seen', section: undefined }, { kind: 'atom', value: '$Label', section: undefined }],
      { s: '07-Dec-2026 09:40:00 +0000', literal: false },
      { s: 'x\r\ny', literal: true },
    ]);
    expect(parseCommand(Buffer.from('a X ((a) NIL ())')).args.map(plain)).toEqual([[[{ kind: 'atom', value: 'a', section: undefined }], { kind: 'atom', value: 'NIL', section: undefined }, []]]);
  });

  it('reads fetch atoms with a section and a partial range', () => {
    const [items] = parseCommand(Buffer.from('a FETCH 1 (BODY.PEEK[1.2.HEADER.FIELDS (From "To")]<0.100> BODY[] BINARY.SIZE[1] RFC822)')).args.slice(1);
    expect(plain(items!)).toEqual([
      { kind: 'atom', value: 'BODY.PEEK', section: [{ kind: 'atom', value: '1.2.HEADER.FIELDS', section: undefined }, [{ kind: 'atom', value: 'From', section: undefined }, { s: 'To', literal: false }]], partial: { start: 0, length: 100 } },
      { kind: 'atom', value: 'BODY', section: [] },
      { kind: 'atom', value: 'BINARY.SIZE', section: [{ kind: 'atom', value: '1', section: undefined }] },
      { kind: 'atom', value: 'RFC822', section: undefined },
    ]);
  });

  it('keeps [ ] in other atoms (LIST patterns) and list wildcards', () => {
    expect(parseCommand(Buffer.from('a LIST "" [Gmail]/%')).args.map(plain)[1]).toEqual({ kind: 'atom', value: '[Gmail]/%', section: undefined });
  });

  it.each([
    ['', null, 'a command starts with a tag'],
    ['+ NOOP', null, 'a command starts with a tag'],
    ['a1', 'a1', 'a command name must follow the tag'],
    ['a1 NO-OP', 'a1', 'a command name is letters'],
    ['a1 LOGIN "open', 'a1', 'a quoted string is not closed'],
    ['a1 LOGIN "bad\\x"', 'a1', 'only'],
    ['a1 LOGIN {5}\r\nab', 'a1', 'shorter than announced'],
    ['a1 FETCH 1 (FLAGS', 'a1', 'a list is not closed'],
    ['a1 FETCH 1 BODY[TEXT', 'a1', 'a section is not closed'],
    ['a1 FETCH 1 BODY[]<x>', 'a1', 'a partial range'],
    ['a1 NOOP  ', 'a1', 'unexpected'],
    [`a1 X ${'('.repeat(40)}`, 'a1', 'nested too deep'],
  ])('refuses %j with its own error, tagged when it can', (text, tag, message) => {
    let error: unknown;
    try {
      parseCommand(Buffer.from(text, 'latin1'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ImapParseError);
    expect((error as ImapParseError).tag).toBe(tag);
    expect((error as ImapParseError).message).toContain(message);
  });
});

describe('sequence sets', () => {
  it('parses ranges with * and matches them against the largest number in use', () => {
    const set = parseSequenceSet('1:3,7,10:*')!;
    expect([1, 2, 3, 4, 7, 9, 10, 12].filter((n) => inSequenceSet(set, n, 12))).toEqual([1, 2, 3, 7, 10, 12]);
    expect(inSequenceSet(parseSequenceSet('5:3')!, 4, 9)).toBe(true);
    // a UID range starting past the largest still holds the last message (RFC 3501 6.4.8)
    expect(inSequenceSet(parseSequenceSet('20:*')!, 12, 12)).toBe(true);
  });

  it.each(['', '0', '1:', ':2', '1,,2', '1:2:3', 'a', '01', '4294967296'])('refuses %j', (text) => {
    expect(parseSequenceSet(text)).toBeNull();
  });

  it('writes numbers compactly', () => {
    expect(formatSequenceSet([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
  });
});

describe('IMAP response encoder', () => {
  it('quotes short 7-bit text and sends anything else as a literal', () => {
    expect(encodeString('plain text')).toEqual(['"plain text"']);
    for (const text of ['say "hi"', 'back\\slash', 'two\r\nlines', 'caf\u00e9', 'x'.repeat(2000)]) {
      const [head, body] = encodeString(text);
      expect(head).toBe(`{${Buffer.byteLength(text)}}\r\n`);
      expect((body as Buffer).toString('utf8')).toBe(text);
    }
  });

  it('writes NIL, numbers, atoms and lists; adjacent text is joined', () => {
    expect(compact(encodeValue([null, 3, atom('\\Seen'), ['a', 'b\r\n']]))).toEqual(['(NIL 3 \\Seen ("a" {3}\r\n', Buffer.from('b\r\n'), '))']);
  });
});

describe('LIST patterns', () => {
  it.each([
    ['*', 'anything', true],
    ['%', '', true],
    ['bill*', 'billing', true],
    ['*ing', 'billing', true],
    ['b%l*g', 'billing', true],
    ['bill', 'billing', false],
    ['*x*', 'billing', false],
    ['billing', 'billing', true],
    ['', 'billing', false],
  ])('%j against %j: %s', (pattern, name, expected) => {
    expect(matchesPattern(pattern, name)).toBe(expected);
  });

  it('matches a pattern of thousands of wildcards without backtracking for ages', () => {
    expect(matchesPattern(`${'*a'.repeat(5000)}b`, 'a'.repeat(64))).toBe(false);
  });
});
