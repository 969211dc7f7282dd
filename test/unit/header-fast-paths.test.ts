/**
 * The fast paths that read common header shapes without nodemailer's addressparser or libmime,
 * and the whitespace patterns of html-text.ts, must give exactly what the general code gives.
 * Each is compared with the general code on hand-picked values and on generated ones, built from
 * the characters where the parsers' rules differ (quotes, escapes, comments, separators, blanks).
 */
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { describe, expect, it } from 'vitest';
import { parseHeaderValue, plainHeaderValue } from '../../src/mail/header-line.js';
import { decodeEntities, htmlToText, makeSnippet } from '../../src/mail/html-text.js';
import { parseSimpleAddresses } from '../../src/mail/simple-addresses.js';

/** A small deterministic generator, so a failure names a reproducible input. */
function generator(seed: number) {
  let state = seed;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state % n;
  };
  const pick = <T>(items: readonly T[]): T => items[next(items.length)]!;
  const string = (alphabet: readonly string[], maxLength: number): string => Array.from({ length: next(maxLength + 1) }, () => pick(alphabet)).join('');
  return { next, pick, string };
}

/** What the fast parser's general path makes of addressparser's result. */
function viaAddressparser(value: string): { name: string; address: string }[] {
  const out: { name: string; address: string }[] = [];
  const visit = (list: ReturnType<typeof addressparser>): void => {
    for (const entry of list) {
      if ('group' in entry && entry.group) {
        out.push({ name: `group:${entry.name}`, address: '' });
        visit(entry.group);
        continue;
      }
      const address = 'address' in entry ? entry.address ?? '' : '';
      const name = (entry.name || '').toString().trim();
      if (address || name) out.push({ name, address });
    }
  };
  visit(addressparser(value));
  return out;
}

describe('plain address lists', () => {
  it.each([
    ['bench@kotak.test', [{ name: '', address: 'bench@kotak.test' }]],
    ['Kotak Bench <bench@kotak.test>', [{ name: 'Kotak Bench', address: 'bench@kotak.test' }]],
    ['"Doe, Jane" <jane@example.com>', [{ name: 'Doe, Jane', address: 'jane@example.com' }]],
    ['John Q. Public <jqp@example.com>, a@b.example', [{ name: 'John Q. Public', address: 'jqp@example.com' }, { name: '', address: 'a@b.example' }]],
    ['=?utf-8?Q?J=C3=B6rg?= <j@example.com>', [{ name: '=?utf-8?Q?J=C3=B6rg?=', address: 'j@example.com' }]],
    ['<only@example.com>', null],
    ['Team: x@example.com, y@example.com;', null],
    ['a@example.com (comment)', null],
    ['"Escaped \\" quote" <a@example.com>', null],
    ['a@example.com,', null],
    ['Jörg <j@example.com>', null],
    ['', null],
  ])('%j', (value, expected) => {
    const fast = parseSimpleAddresses(value);
    expect(fast).toEqual(expected);
    if (fast) expect(fast).toEqual(viaAddressparser(value));
  });

  it('agrees with addressparser on every generated list it reads (40,000 values)', () => {
    const { next, pick, string } = generator(20261206);
    const alphabet = ['a', 'Z', '0', '.', '-', '_', '+', ' ', ' ', '\t', '"', ',', '<', '>', '@', '=', '?', "'", '(', ')', '\\', ':', ';', 'é', '/'];
    const atoms = ['Jane', 'Doe', 'Q.', "O'Brien", '=?utf-8?Q?J=C3=A9?=', 'x_y', 'a.b', '-', '.', '=?', '?='];
    const addresses = ['j@x.com', 'a.b@c.d', 'a@b', 'A+tag@Ex-ample.COM', '.a@b', 'a.@b', 'a@b.', 'a@.b', 'a@-b', 'a..b@c'];
    const structured = (): string => {
      const items = Array.from({ length: 1 + next(3) }, () => {
        const address = pick(addresses);
        const name = Array.from({ length: 1 + next(3) }, () => pick(atoms)).join(pick([' ', ' ', '  ']));
        const quoted = pick([name, ` ${name}`, `${name},x`, 'a<b>c', 'a@b', '(c)', 'é', '\tx']);
        return [address, `${name}${pick([' ', '', '  '])}<${address}>`, `"${quoted}"${pick([' ', ''])}<${address}>`, `<${address}>`][next(4)]!;
      });
      return pick(['', ' ']) + items.join(pick([', ', ',', ' , '])) + pick(['', ' ', ',']);
    };
    let read = 0;
    for (let i = 0; i < 40_000; i++) {
      const value = i % 2 ? structured() : string(alphabet, 30);
      const fast = parseSimpleAddresses(value);
      if (!fast) continue;
      read++;
      expect(fast, value).toEqual(viaAddressparser(value));
    }
    expect(read, 'lists read by the fast path').toBeGreaterThan(2_000); // the comparison is not vacuous
  });
});

describe('plain structured header values', () => {
  const viaLibmime = (value: string) => {
    const parsed = libmime.parseHeaderValue(value, { stripComments: true });
    return { value: parsed.value, params: { ...parsed.params }, decodedParams: parsed.decodedParams ?? [] };
  };
  const normal = (parsed: ReturnType<typeof parseHeaderValue>) => ({ value: parsed.value, params: { ...parsed.params }, decodedParams: [...parsed.decodedParams] });

  it.each([
    ['text/plain; charset=utf-8', true],
    ['multipart/alternative; boundary="alt-7f3a"', true],
    ['multipart/mixed;\tboundary=----=_Part_0_1.2 ; ', true],
    ['attachment; filename="report 2026.pdf"', true],
    ['text/plain; charset=us-ascii; format=flowed; CHARSET=latin1', true],
    ['text/plain; charset=utf-8 (comment)', false],
    ["attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf", false],
    ['attachment; filename="a\\"b"', false],
    ['text/plain; __proto__=x', false],
    ['', false],
  ])('%j', (value, plain) => {
    expect(plainHeaderValue(value) !== null).toBe(plain);
    expect(normal(parseHeaderValue(value))).toEqual(viaLibmime(value));
  });

  it('agrees with libmime on every generated value (40,000 values)', () => {
    const { next, pick, string } = generator(7);
    const alphabet = ['a', 'B', '0', '/', '-', '.', '_', ' ', '\t', '"', ';', '=', '(', ')', '\\', '*', "'", '%', 'é', ':', '?', '<'];
    const types = ['text/plain', 'TEXT/HTML', 'multipart/mixed', 'application/octet-stream', 'attachment', 'inline', 'x', 'a/b/c', 'text/plain='];
    const keys = ['charset', 'boundary', 'name', 'filename', 'Format', 'NAME', 'x*', 'filename*0', 'a.b', '__proto__', 'constructor', 'toString', ''];
    const values = ['utf-8', '"utf-8"', '"a b"', '"  spaced  "', '----=_Part_0_1.2', '"x;y"', '"a\\"b"', '(c)', 'a(b)', '"a"b', '""', '=?utf-8?Q?a?=', '"é"', '"'];
    const structured = (): string => {
      let value = pick(['', ' ', '\t']) + pick(types) + pick(['', ' ']);
      for (let n = next(4); n > 0; n--) value += `;${pick(['', ' ', '  ', '\t'])}${pick(keys)}${pick(['', ' '])}=${pick(['', ' '])}${pick(values)}${pick(['', ' '])}`;
      return value + pick(['', ';', '; ', ' ;']);
    };
    let plain = 0;
    for (let i = 0; i < 40_000; i++) {
      const value = i % 2 ? structured() : string(alphabet, 40);
      const read = plainHeaderValue(value);
      expect(normal(parseHeaderValue(value)), value).toEqual(viaLibmime(value));
      if (!read) continue;
      plain++;
      // mime-limits.ts reads Content-Type as mailparser does, without stripping comments: the
      // plain reader must agree with that reading too.
      const unstripped = libmime.parseHeaderValue(value);
      expect(normal(read), value).toEqual({ value: unstripped.value, params: { ...unstripped.params }, decodedParams: unstripped.decodedParams ?? [] });
    }
    expect(plain).toBeGreaterThan(3_000);
  });
});

describe('whitespace runs in text for search and snippets', () => {
  // The patterns as they were: every run, a lone space included, replaced by a space.
  const snippetBefore = (text: string): string => {
    const line = text.slice(0, 800).replace(/\s+/g, ' ').trim();
    return line.length > 200 ? `${line.slice(0, 199)}…` : line;
  };
  const htmlTextBefore = (html: string): string =>
    decodeEntities(
      html
        .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
        .replace(/<(script|style|head|title|template)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
        .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h[1-6]|\/table)\b[^>]*>/gi, '\n')
        .replace(/<[^>]*>/g, ' '),
    )
      .replace(/[ \t\r\f\v\u00a0]+/g, ' ')
      .replace(/ ?\n[\s]*/g, '\n')
      .trim();

  it('collapse exactly as replacing every run did (30,000 values)', () => {
    const { string } = generator(3);
    const alphabet = ['a', ' ', ' ', '\t', '\r', '\n', '\f', '\v', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u2028', '\u1680', '\u200b', '<', '>', 'p', '/', '&', 'b', 'r'];
    for (let i = 0; i < 30_000; i++) {
      const value = string(alphabet, 40);
      expect(makeSnippet(value), JSON.stringify(value)).toBe(snippetBefore(value));
      expect(htmlToText(value), JSON.stringify(value)).toBe(htmlTextBefore(value));
    }
  });
});
