/**
 * The IMAP structure module (src/imap/structure/) on crafted messages: the MIME tree as byte
 * offsets, sections, ENVELOPE, BODYSTRUCTURE/BODY and BINARY, one rule a test. Values are read
 * through test/helpers/imap-value-text.ts (strings quoted, atoms bare), as a client sees them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ImapStructureError, type SectionSpec, parseMessageStructure } from '../../src/imap/structure/index.js';
import { MAX_ENVELOPE_ADDRESSES } from '../../src/imap/structure/address-list.js';
import { MAX_DEPTH } from '../../src/imap/structure/mime-tree.js';
import type { ImapValue } from '../../src/imap/wire/values.js';
import { imapValueText } from '../helpers/imap-value-text.js';

/** A message from lines, joined with CRLF (or `eol`). */
function message(lines: readonly string[], eol = '\r\n'): Buffer {
  return Buffer.from(lines.join(eol), 'utf8');
}

function section(raw: Buffer, part: number[], text: SectionSpec['text'] = null, fields?: string[]): string | null {
  const bytes = parseMessageStructure(raw).section({ part, text, ...(fields ? { fields } : {}) });
  return bytes === null ? null : bytes.toString('utf8');
}

function items(value: ImapValue): readonly ImapValue[] {
  if (value.kind !== 'list') throw new Error(`not a list: ${imapValueText(value)}`);
  return value.items;
}

const RFC2060 = readFileSync(new URL('../fixtures/corpus/mimekit--rfc2060.eml', import.meta.url));

describe('sections (RFC 3501 6.4.5)', () => {
  it('BODY[] is the raw message exactly, bare LF line endings included', () => {
    const raw = message(['Subject: lf only', '', 'line one', 'line two', ''], '\n');
    expect(parseMessageStructure(raw).section({ part: [], text: null })!.equals(raw)).toBe(true);
  });

  it('numbers every part of RFC 3501\'s sample structure, through attached messages', () => {
    for (const part of ['1', '2', '3.1', '3.2', '4.1', '4.2.1', '4.2.2.1', '4.2.2.2']) {
      expect(section(RFC2060, part.split('.').map(Number)), part).toBe(`This part specifier should be: ${part}\n`);
    }
    expect(section(RFC2060, [3], 'HEADER')).toContain('Subject: This part specifier should be: 3\n');
    expect(section(RFC2060, [4, 2], 'HEADER')).toMatch(/^From: me@myself.com\n[^]*Subject: This part specifier should be: 4.2\n[^]*\n\n$/);
    expect(section(RFC2060, [4, 2], 'TEXT')).toMatch(/^--4.2.x\n[^]*--4.2.x--$/);
    expect(section(RFC2060, [4, 2], 'MIME')).toBe('Content-Type: MESSAGE/RFC822\n\n');
    expect(section(RFC2060, [4, 2, 2], 'MIME')).toBe('Content-Type: MULTIPART/ALTERNATIVE; boundary="4.2.2.x"\n\n');
    expect(section(RFC2060, [4, 2, 2, 1], 'MIME')).toBe('Content-Type: TEXT/PLAIN\n\n');
    // The part [3] is the whole attached message; [3.HEADER.FIELDS] reads its header.
    expect(section(RFC2060, [3])).toMatch(/^From: me@myself.com\n[^]*--3.x--$/);
    expect(section(RFC2060, [3], 'HEADER.FIELDS', ['subject'])).toBe('Subject: This part specifier should be: 3\n\n');
  });

  it('answers null for parts that do not exist and for HEADER/TEXT of a part that carries no message', () => {
    expect(section(RFC2060, [5])).toBeNull();
    expect(section(RFC2060, [0])).toBeNull();
    expect(section(RFC2060, [1, 1])).toBeNull();
    expect(section(RFC2060, [4, 2, 3])).toBeNull();
    expect(section(RFC2060, [1], 'HEADER')).toBeNull();
    expect(section(RFC2060, [4, 1], 'TEXT')).toBeNull();
  });

  it('gives a message that is not multipart exactly one part, 1, its body', () => {
    const raw = message(['From: a@example.com', 'Subject: hi', '', 'body line', '']);
    expect(section(raw, [1])).toBe('body line\r\n');
    expect(section(raw, [], 'TEXT')).toBe('body line\r\n');
    expect(section(raw, [], 'HEADER')).toBe('From: a@example.com\r\nSubject: hi\r\n\r\n');
    expect(section(raw, [1], 'MIME')).toBe('From: a@example.com\r\nSubject: hi\r\n\r\n');
    expect(section(raw, [2])).toBeNull();
    expect(section(raw, [1, 1])).toBeNull();
  });

  it('HEADER.FIELDS and HEADER.FIELDS.NOT: names case-insensitive, folding kept, message order, then the empty line', () => {
    const raw = message(['Subject: one', 'To: a@example.com,', '\tb@example.com', 'X-Other: x', 'subject: two', '', 'body']);
    expect(section(raw, [], 'HEADER.FIELDS', ['TO', 'Subject'])).toBe('Subject: one\r\nTo: a@example.com,\r\n\tb@example.com\r\nsubject: two\r\n\r\n');
    expect(section(raw, [], 'HEADER.FIELDS.NOT', ['subject', 'to'])).toBe('X-Other: x\r\n\r\n');
    expect(section(raw, [], 'HEADER.FIELDS', ['absent'])).toBe('\r\n');
    // A bare-LF message keeps its own empty line.
    expect(section(message(['Subject: lf', '', 'b'], '\n'), [], 'HEADER.FIELDS', ['subject'])).toBe('Subject: lf\n\n');
  });

  it('gives the line break before a delimiter to the delimiter, and ends a part without its final delimiter at the end of the message', () => {
    const raw = message(['Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'first', '--b', '', 'second', '', '--b', '', 'third, cut off', '']);
    expect(section(raw, [1])).toBe('first');
    expect(section(raw, [2])).toBe('second\r\n');
    expect(section(raw, [3])).toBe('third, cut off\r\n');
  });

  it('skips preamble and epilogue, lines that only look like the boundary included', () => {
    const raw = message([
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--bb not the boundary',
      '--b-- not a delimiter either',
      '--b',
      '',
      'the part',
      '--b--',
      '--b',
      'epilogue that repeats the boundary',
    ]);
    const structure = parseMessageStructure(raw);
    expect(section(raw, [1])).toBe('the part');
    expect(section(raw, [2])).toBeNull();
    expect(imapValueText(structure.bodyStructure(false))).toBe('(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 8 1) "MIXED")');
  });

  it('lets an outer delimiter close inner parts whose own final delimiter is missing', () => {
    const raw = message([
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      '',
      'inner one',
      '--outer',
      '',
      'outer two',
      '--outer--',
    ]);
    expect(section(raw, [1, 1])).toBe('inner one');
    expect(section(raw, [2])).toBe('outer two');
  });

  it('reads a part that is only a header (a delimiter right after its fields)', () => {
    const raw = message(['Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/html', '--b', '', 'next', '--b--']);
    expect(section(raw, [1], 'MIME')).toBe('Content-Type: text/html');
    expect(section(raw, [1])).toBe('');
    expect(section(raw, [2])).toBe('next');
  });
});

describe('BODYSTRUCTURE and BODY', () => {
  it('reports a single text part: upper-cased type and encoding, parameters as sent, size in stored octets, lines, extension data', () => {
    const raw = message([
      'Content-Type: text/plain; charset="utf-8"; format=flowed',
      'Content-Transfer-Encoding: quoted-printable',
      'Content-ID: <id@example.com>',
      'Content-Description: a',
      ' folded description',
      'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
      'Content-Disposition: inline; filename="a b.txt"',
      'Content-Language: en, de',
      'Content-Location: http://example.com/a.txt',
      '',
      'caf=C3=A9',
      'two',
    ]);
    const structure = parseMessageStructure(raw);
    expect(imapValueText(structure.bodyStructure(true))).toBe(
      '("TEXT" "PLAIN" ("charset" "utf-8" "format" "flowed") "<id@example.com>" "a folded description" "QUOTED-PRINTABLE" 14 2 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("INLINE" ("filename" "a b.txt")) ("en" "de") "http://example.com/a.txt")',
    );
    expect(imapValueText(structure.bodyStructure(false))).toBe('("TEXT" "PLAIN" ("charset" "utf-8" "format" "flowed") "<id@example.com>" "a folded description" "QUOTED-PRINTABLE" 14 2)');
  });

  it('counts sizes and lines of bare-LF bodies as stored, a last line without a line break included', () => {
    const raw = message(['Content-Type: text/plain', '', 'one', 'two', 'three'], '\n');
    expect(imapValueText(parseMessageStructure(raw).bodyStructure(false))).toBe('("TEXT" "PLAIN" NIL NIL NIL "7BIT" 13 3)');
  });

  it('defaults a missing or unreadable Content-Type to text/plain; charset=us-ascii, and to message/rfc822 inside multipart/digest', () => {
    expect(imapValueText(parseMessageStructure(message(['Subject: x', '', 'b'])).bodyStructure(false))).toBe('("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1 1)');
    expect(imapValueText(parseMessageStructure(message(['Content-Type: application-x-gzip', '', 'b'])).bodyStructure(false))).toBe(
      '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1 1)',
    );
    const digest = message(['Content-Type: multipart/digest; boundary=d', '', '--d', '', 'Subject: inner', '', 'hello', '--d--']);
    expect(imapValueText(parseMessageStructure(digest).bodyStructure(false))).toBe(
      '(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 23 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 5 1) 3) "DIGEST")',
    );
  });

  it('describes an attached message with its ENVELOPE, its own BODYSTRUCTURE and its lines; message/global too', () => {
    for (const subtype of ['rfc822', 'global']) {
      const raw = message([
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        `Content-Type: message/${subtype}`,
        'Content-Disposition: attachment',
        '',
        'From: Inner <inner@example.com>',
        'Subject: inside',
        'Content-Type: text/html',
        '',
        '<p>hi</p>',
        '--b--',
      ]);
      expect(imapValueText(parseMessageStructure(raw).bodyStructure(true))).toBe(
        `(("MESSAGE" "${subtype.toUpperCase()}" NIL NIL NIL "7BIT" 86 ` +
          '(NIL "inside" (("Inner" NIL "inner" "example.com")) (("Inner" NIL "inner" "example.com")) (("Inner" NIL "inner" "example.com")) NIL NIL NIL NIL NIL) ' +
          '("TEXT" "HTML" NIL NIL NIL "7BIT" 9 1 NIL NIL NIL NIL) 5 NIL ("ATTACHMENT" NIL) NIL NIL) "MIXED" ("boundary" "b") NIL NIL NIL)',
      );
    }
  });

  it('keeps RFC 2231 parameters as sent (continuations and charsets) for the client to decode', () => {
    const raw = message([
      'Content-Type: application/pdf;',
      " name*0*=utf-8''%E2%82%AC%20rates;",
      ' name*1="-2024.pdf"',
      "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf",
      'Content-Transfer-Encoding: base64',
      '',
      'AAAA',
    ]);
    expect(imapValueText(parseMessageStructure(raw).bodyStructure(true))).toBe(
      '("APPLICATION" "PDF" ("name*0*" "utf-8\'\'%E2%82%AC%20rates" "name*1" "-2024.pdf") NIL NIL "BASE64" 4 NIL ("ATTACHMENT" ("filename*" "utf-8\'\'%E2%82%AC.pdf")) NIL NIL)',
    );
  });

  it('reports a multipart with no parts with one empty text part (the grammar needs one)', () => {
    const raw = message(['Content-Type: multipart/alternative; boundary=never', '', 'only a preamble']);
    expect(imapValueText(parseMessageStructure(raw).bodyStructure(false))).toBe('(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0) "ALTERNATIVE")');
  });

  it('reports an attached message it cannot read (a transfer encoding RFC 2046 forbids) with an empty envelope and body', () => {
    const raw = message(['Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'U3ViamVjdDogeAoKYm9keQo=']);
    expect(imapValueText(parseMessageStructure(raw).bodyStructure(false))).toBe(
      '("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 24 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0) 1)',
    );
  });
});

describe('ENVELOPE (RFC 3501 7.4.2)', () => {
  it('reads every field as written (encoded-words kept), unfolded, NIL when absent; sender and reply-to default to from', () => {
    const raw = message([
      'Date: Mon, 7 Dec 2026 09:40:00 +0000',
      'Subject: =?UTF-8?B?w6k=?= and',
      '  folded',
      'From: "Doe, John" <john@example.com>',
      'Sender:',
      'To: a@example.com, Bee <b@example.org>',
      'Cc: undisclosed-recipients:;',
      'Bcc: Team: x@example.com, y@example.com;, z@example.com',
      'In-Reply-To: <parent@example.com>',
      'Message-ID: <self@example.com>',
      '',
      'body',
    ]);
    expect(imapValueText(parseMessageStructure(raw).envelope())).toBe(
      '("Mon, 7 Dec 2026 09:40:00 +0000" "=?UTF-8?B?w6k=?= and  folded" (("Doe, John" NIL "john" "example.com")) (("Doe, John" NIL "john" "example.com")) (("Doe, John" NIL "john" "example.com")) ' +
        '((NIL NIL "a" "example.com") ("Bee" NIL "b" "example.org")) ((NIL NIL "undisclosed-recipients" NIL) (NIL NIL NIL NIL)) ' +
        '((NIL NIL "Team" NIL) (NIL NIL "x" "example.com") (NIL NIL "y" "example.com") (NIL NIL NIL NIL) (NIL NIL "z" "example.com")) "<parent@example.com>" "<self@example.com>")',
    );
    expect(imapValueText(parseMessageStructure(message(['X-Nothing: here', '', ''])).envelope())).toBe('(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  });

  it('reads names from comments, routes as adl, quoted local parts, and marks missing domains as Dovecot does', () => {
    const raw = message(['From: john@example.com (John Doe)', 'To: <@relay.example,@two.example:joe@example.com>, "odd local"@example.com, localonly', '', '']);
    expect(imapValueText(items(parseMessageStructure(raw).envelope())[2]!)).toBe('(("John Doe" NIL "john" "example.com"))');
    expect(imapValueText(items(parseMessageStructure(raw).envelope())[5]!)).toBe(
      '((NIL "@relay.example,@two.example" "joe" "example.com") (NIL NIL "\\"odd local\\"" "example.com") (NIL NIL "localonly" "MISSING_DOMAIN"))',
    );
  });

  it('passes 8-bit header bytes through unchanged (raw UTF-8 headers, RFC 6532)', () => {
    const raw = Buffer.from('Subject: caf\u00e9 \u2603\r\nFrom: J\u00f6 <j\u00f6@example.com>\r\n\r\nb', 'utf8');
    const envelope = items(parseMessageStructure(raw).envelope());
    const subject = envelope[1]!;
    expect(subject.kind === 'string' && subject.value.equals(Buffer.from('caf\u00e9 \u2603', 'utf8'))).toBe(true);
    expect(imapValueText(envelope[2]!)).toBe('(("J\u00f6" NIL "j\u00f6" "example.com"))');
  });

  it('takes the ENVELOPE of an attached message from its own header', () => {
    const envelope = items(items(items(parseMessageStructure(RFC2060).bodyStructure(false))[2]!)[7]!);
    expect(imapValueText(envelope[1]!)).toBe('"This part specifier should be: 3"');
  });
});

describe('BINARY (RFC 3516)', () => {
  const raw = message([
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Transfer-Encoding: base64',
    '',
    'aGVsbG8g',
    'd29ybGQ=',
    '--b',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'caf=C3=A9 soft=',
    'break =3D done=',
    '--b',
    'Content-Transfer-Encoding: 8bit',
    '',
    'as is\u00e9',
    '--b',
    'Content-Transfer-Encoding: x-uuencode',
    '',
    'begin 644 a',
    '--b--',
  ]);
  const structure = parseMessageStructure(raw);

  it('undoes base64 and quoted-printable, keeps 7bit/8bit/binary as they are', () => {
    expect(structure.binary([1])!.toString('utf8')).toBe('hello world');
    expect(structure.binary([2])!.toString('utf8')).toBe('caf\u00e9 softbreak = done');
    expect(structure.binary([3])!.toString('utf8')).toBe('as is\u00e9');
  });

  it('throws UNKNOWN-CTE for an encoding it cannot undo, and answers null for a part that does not exist', () => {
    expect(() => structure.binary([4])).toThrow(ImapStructureError);
    try {
      structure.binary([4]);
    } catch (err) {
      expect((err as ImapStructureError).code).toBe('UNKNOWN-CTE');
    }
    expect(structure.binary([5])).toBeNull();
  });

  it('gives BINARY[1] of a single-part message its decoded body', () => {
    const single = message(['Content-Transfer-Encoding: base64', '', 'AAEC/w==']);
    expect([...parseMessageStructure(single).binary([1])!]).toEqual([0, 1, 2, 255]);
  });
});

describe('malformed and hostile mail', () => {
  it('skips header lines that are no field (no colon, a name with blanks) and reads on', () => {
    const raw = message(['From blah Mon Dec 7 10:00:00 2026', 'garbage line without colon', 'Subject: kept', 'Content-Type: text/html', '', '<b>x</b>']);
    const structure = parseMessageStructure(raw);
    expect(imapValueText(items(structure.envelope())[1]!)).toBe('"kept"');
    expect(imapValueText(items(structure.bodyStructure(false))[1]!)).toBe('"HTML"');
  });

  it('reads the first field of a message that starts with a UTF-8 byte order mark', () => {
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), message(['From: a@example.com', 'Subject: s', '', 'b'])]);
    expect(imapValueText(items(parseMessageStructure(raw).envelope())[2]!)).toBe('((NIL NIL "a" "example.com"))');
    expect(section(raw, [], 'HEADER.FIELDS', ['from'])).toBe('\ufeffFrom: a@example.com\r\n\r\n');
  });

  it('treats parts nested past the depth limit as leaves and still answers', () => {
    const depth = MAX_DEPTH + 50;
    const lines: string[] = [];
    for (let i = 0; i < depth; i++) lines.push(`Content-Type: multipart/mixed; boundary=b${i}`, '', `--b${i}`);
    lines.push('', 'deepest');
    const structure = parseMessageStructure(message(lines));
    const text = imapValueText(structure.bodyStructure(true));
    // Depths 0 to MAX_DEPTH - 1 are read as multiparts; the one at MAX_DEPTH is a leaf, reported
    // as a multipart with one empty part; its body is still BODY[1.1…1].
    expect(text.match(/"MIXED"/g)).toHaveLength(MAX_DEPTH + 1);
    const path = Array.from({ length: MAX_DEPTH }, () => 1);
    expect(structure.section({ part: path, text: 'MIME' })!.toString()).toBe(`Content-Type: multipart/mixed; boundary=b${MAX_DEPTH}\r\n\r\n`);
    expect(structure.section({ part: path, text: null })!.toString()).toMatch(/^--b100\r\n/);
    expect(structure.section({ part: [...path, 1], text: null })).toBeNull();
  });

  it('reads a header of 200,000 fields and finds the envelope fields after them', () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `X-F${i}: v`);
    lines.push('Subject: at the end', '', 'body');
    expect(imapValueText(items(parseMessageStructure(message(lines)).envelope())[1]!)).toBe('"at the end"');
  });

  it('cuts an ENVELOPE address list after MAX_ENVELOPE_ADDRESSES entries', () => {
    const raw = message([`To: ${Array.from({ length: MAX_ENVELOPE_ADDRESSES + 50 }, (_, i) => `u${i}@example.com`).join(', ')}`, '', '']);
    const to = items(items(parseMessageStructure(raw).envelope())[5]!);
    expect(to).toHaveLength(MAX_ENVELOPE_ADDRESSES);
    expect(imapValueText(to[MAX_ENVELOPE_ADDRESSES - 1]!)).toBe(`(NIL NIL "u${MAX_ENVELOPE_ADDRESSES - 1}" "example.com")`);
  });

  it('never throws on random bytes built from MIME punctuation', () => {
    let state = 7;
    const next = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
      return state % n;
    };
    const pieces = ['\r\n', '\n', '--b', '--b--', 'Content-Type: multipart/mixed; boundary=b', 'Content-Type: message/rfc822', ': ', ' ', '"', '(', ')', '<', '>', '@', ',', ';', '=', '=?', '\u00e9', 'x', 'Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: quoted-printable', 'From: ', '\t'];
    for (let round = 0; round < 500; round++) {
      const raw = Buffer.from(Array.from({ length: next(60) }, () => pieces[next(pieces.length)]).join(''), 'utf8');
      const structure = parseMessageStructure(raw);
      structure.envelope();
      structure.bodyStructure(true);
      structure.bodyStructure(false);
      for (const part of [[], [1], [1, 1], [2], [1, 2, 1]]) {
        for (const text of [null, 'HEADER', 'TEXT', 'MIME', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT'] as const) structure.section({ part, text, fields: ['from'] });
        try {
          structure.binary(part);
        } catch (err) {
          if (!(err instanceof ImapStructureError)) throw err;
        }
      }
      expect(structure.section({ part: [], text: null })!.equals(raw)).toBe(true);
    }
  });
});
