/**
 * The rules IMAP SEARCH's store narrowing rests on (src/store/may-match.ts, src/imap/search/
 * narrowing.ts), checked against the code they summarise rather than against examples alone:
 * which characters lower-case into ASCII, what HTML markup must hold for its text to hold a string
 * (random HTML through htmlToText), and how far the Date the store parsed may lie from the day IMAP
 * reads as written (random Date headers through the real parser).
 */
import { describe, expect, it } from 'vitest';
import { writtenDay } from '../../src/imap/search/dates.js';
import { narrowingQuery, sentNarrowingQuery } from '../../src/imap/search/narrowing.js';
import { htmlToText } from '../../src/mail/html-text.js';
import { parseMessage } from '../../src/mail/parse.js';
import { FOLDS_INTO_ASCII, mayBeSent, mayContainInBody } from '../../src/store/may-match.js';
import { rawMessage } from '../helpers/new-message.js';
import { seededRandom as random } from '../helpers/random.js';

describe('FOLDS_INTO_ASCII', () => {
  it('is every character beyond ASCII whose lower case holds an ASCII or caseless character', () => {
    const safe = (char: string) => char < '\x80' || char.toLowerCase() === char.toUpperCase();
    const found: string[] = [];
    for (let code = 0x80; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      const lower = char.toLowerCase();
      if (lower !== char && [...lower].some(safe)) found.push(char);
    }
    expect(found).toEqual(FOLDS_INTO_ASCII);
  });
});

describe('may-contain in an HTML body', () => {
  it("holds every run of every piece of the HTML's text that IMAP finds, over random HTML", () => {
    const next = random(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const fragments = [
      'Order', 're', 'der', 'ÄRGER', 'straße', '日本', 'a', 'B', ' ', '  ', '\n', '\t', '\u00a0',
      '<b>', '</b>', '<p class="x">', '<br>', '</div>', '<!-- note -->', '<script>var x = "rder";</script>', '<style>p{}</style>',
      '&amp;', '&lt;', '&gt;', '&quot;', '&nbsp;', '&copy;', '&euro;', '&mdash;', '&AMP;', '&uuml;', '&bogus;',
      '&shy;', '&zwnj;', '&#114;', '&#x64;', '&#0;', '&', ';', '#', '<', '>', '"', "'", '\u212Aelvin', 'İ',
    ];
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const html = Array.from({ length: 1 + Math.floor(next() * 14) }, () => pick(fragments)).join('');
      const text = htmlToText(html).toLowerCase();
      if (text === '') continue;
      const start = Math.floor(next() * text.length);
      const needle = text.slice(start, start + 1 + Math.floor(next() * 10));
      const query = narrowingQuery({ kind: 'body' }, needle);
      for (const term of query?.terms ?? []) {
        // The words the full-text index answers are not this rule's; the may-contain runs are.
        if (term.kind !== 'may-contain') continue;
        checked++;
        expect(mayContainInBody({ text: null, html, headers: [], textCut: false, parseFailed: false }, term.value), `${JSON.stringify(html)} ⊇ ${JSON.stringify(needle)} (${term.value})`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('is not a wildcard: markup without the run, or its entities, does not match', () => {
    const body = (html: string) => ({ text: null, html, headers: [], textCut: false, parseFailed: false });
    expect(mayContainInBody(body('<p>Re<b>order</b></p>'), 'reorder')).toBe(false);
    expect(mayContainInBody(body('<p>Re<b>order</b></p>'), 'rder')).toBe(true);
    expect(mayContainInBody(body('<p>A &amp; B</p>'), 'a&b')).toBe(true);
    expect(mayContainInBody(body('<p>A &amp; B</p>'), 'zzq')).toBe(false);
    expect(mayContainInBody(body('<p>Or&shy;der</p>'), 'zzq')).toBe(true);
    expect(mayContainInBody(body('<p>O&#114;der</p>'), 'zzq')).toBe(true);
  });
});

describe('SENT* narrowing', () => {
  it("keeps every message whose Date header's day as written matches, over random Date headers through the parser", async () => {
    const next = random(11);
    const int = (n: number) => Math.floor(next() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const zone = () => {
      const kind = int(4);
      if (kind === 0) return pick(['GMT', 'UT', 'EST', 'PDT', 'Z', 'A', '']);
      const minutes = int(6000);
      return `${pick(['+', '-'])}${String(Math.floor(minutes / 60)).padStart(2, '0')}${String(minutes % 60).padStart(2, '0')}`;
    };
    let checked = 0;
    for (let i = 0; i < 600; i++) {
      const year = pick([String(1990 + int(60)), String(int(100)).padStart(2, '0'), String(100 + int(900)), String(2026)]);
      const time = `${String(int(25)).padStart(2, '0')}:${String(int(60)).padStart(2, '0')}${next() < 0.5 ? `:${String(int(61)).padStart(2, '0')}` : ''}`;
      const header = `${next() < 0.5 ? `${pick(['Mon', 'Tue', 'Sun'])}, ` : ''}${1 + int(31)} ${pick(months)} ${year} ${time} ${zone()}${next() < 0.2 ? ' (comment)' : ''}`.trim();
      const day = writtenDay(header.toLowerCase());
      if (day === null) continue;
      const stored = (await parseMessage(rawMessage([`Date: ${header}`, 'Subject: x', '', 'x']))).date;
      for (const [op, asked] of [['on', day], ['before', day + 1], ['since', day]] as const) {
        const term = sentNarrowingQuery(op, asked).terms[0]!;
        if (term.kind !== 'may-be-sent') throw new Error('a may-be-sent term');
        checked++;
        expect(mayBeSent(stored, term.from, term.to), `${header}: stored ${stored === null ? null : new Date(stored).toISOString()}, SENT${op} day ${asked}`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(900);
  });
});
