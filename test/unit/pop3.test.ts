/** The pure parts of POP3 and the access layer: line endings, dot-stuffing, TOP, line splitting. */
import { describe, expect, it } from 'vitest';
import { crlfForm, crlfLength } from '../../src/access/line-endings.js';
import { LineReader, type LineEvent } from '../../src/pop3/line-reader.js';
import { dotStuff, headerAndFirstLines, multiline } from '../../src/pop3/replies.js';

const text = (b: Buffer): string => b.toString('latin1');

describe('CRLF form', () => {
  it.each([
    ['', ''],
    ['a\r\n', 'a\r\n'],
    ['a\nb\n', 'a\r\nb\r\n'],
    ['\n\n', '\r\n\r\n'],
    ['a\r\nb', 'a\r\nb\r\n'],
    ['a\rb\n', 'a\rb\r\n'],
    ['x\r\n\ny', 'x\r\n\r\ny\r\n'],
  ])('%j → %j', (input, expected) => {
    const raw = Buffer.from(input, 'latin1');
    expect(text(crlfForm(raw))).toBe(expected);
    expect(crlfLength(raw)).toBe(expected.length);
  });

  it('returns the same buffer when nothing changes, and agrees with its length on random input', () => {
    const already = Buffer.from('a\r\nb\r\n');
    expect(crlfForm(already)).toBe(already);
    const alphabet = ['\r', '\n', 'a', '.', '\r\n'];
    for (let i = 0; i < 500; i++) {
      const raw = Buffer.from(Array.from({ length: i % 40 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join(''), 'latin1');
      const form = crlfForm(raw);
      expect(form.length).toBe(crlfLength(raw));
      expect(/(?<!\r)\n/.test(text(form))).toBe(false);
    }
  });
});

describe('dot-stuffing and TOP', () => {
  it('doubles a leading dot on every line and nothing else', () => {
    expect(text(dotStuff(Buffer.from('.a\r\nb.c\r\n..\r\n.\r\n')))).toBe('..a\r\nb.c\r\n...\r\n..\r\n');
    const plain = Buffer.from('no dots\r\nhere.\r\n');
    expect(dotStuff(plain)).toBe(plain);
    expect(multiline('list', ['.x', 'y'])).toBe('+OK list\r\n..x\r\ny\r\n.\r\n');
  });

  it('TOP gives the headers, the blank line and n body lines', () => {
    const message = Buffer.from('A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n');
    expect(text(headerAndFirstLines(message, 0))).toBe('A: 1\r\nB: 2\r\n\r\n');
    expect(text(headerAndFirstLines(message, 2))).toBe('A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n');
    expect(text(headerAndFirstLines(message, 99))).toBe(text(message));
    expect(text(headerAndFirstLines(Buffer.from('A: 1\r\n'), 1))).toBe('A: 1\r\n');
    expect(text(headerAndFirstLines(Buffer.from('\r\nbody\r\nmore\r\n'), 1))).toBe('\r\nbody\r\n');
  });
});

describe('LineReader', () => {
  const lines = (events: LineEvent[]): string[] => events.map((e) => (e.kind === 'line' ? text(e.line) : `<${e.kind}>`));

  it('splits on CRLF or LF, across chunks', () => {
    const reader = new LineReader(20, 100);
    expect(lines(reader.push(Buffer.from('USER a\r\nPA')))).toEqual(['USER a']);
    expect(lines(reader.push(Buffer.from('SS b\r')))).toEqual([]);
    expect(lines(reader.push(Buffer.from('\nSTAT\nQUIT\r\n')))).toEqual(['PASS b', 'STAT', 'QUIT']);
  });

  it('reports an over-long line once, at its end, and a line that never ends as a flood', () => {
    const reader = new LineReader(10, 50);
    expect(lines(reader.push(Buffer.from('0123456789')))).toEqual([]);
    expect(lines(reader.push(Buffer.from('abc')))).toEqual([]);
    expect(lines(reader.push(Buffer.from('def\r\nok\r\n')))).toEqual(['<too-long>', 'ok']);
    expect(lines(reader.push(Buffer.from('12345678\r\n')))).toEqual(['12345678']); // exactly 10 octets with CRLF
    expect(lines(reader.push(Buffer.from('123456789\r\n')))).toEqual(['<too-long>']);
    expect(lines(reader.push(Buffer.alloc(60, 'x')))).toEqual(['<flood>']);
  });
});
