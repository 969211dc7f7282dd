/**
 * SEARCH's arguments → search keys (src/imap/search/keys.ts, search.ts), the store queries that
 * narrow string keys (search/narrowing.ts), sequence sets and dates. Pure: no store, no sockets.
 */
import { describe, expect, it } from 'vitest';
import { ImapSearchError, parseSearch } from '../../src/imap/search.js';
import { parseImapDate, utcDay, writtenDay } from '../../src/imap/search/dates.js';
import { MAX_SEARCH_DEPTH, parseSearchKeys, type SearchKey } from '../../src/imap/search/keys.js';
import { narrowingQuery } from '../../src/imap/search/narrowing.js';
import { parseSequenceSet, sequenceMatcher } from '../../src/imap/search/sequence-set.js';
import type { ImapValue } from '../../src/imap/wire/values.js';

const atom = (value: string): ImapValue => ({ kind: 'atom', value });
const quoted = (value: string): ImapValue => ({ kind: 'string', value: Buffer.from(value, 'utf8'), literal: false });
const literal = (value: Buffer | string): ImapValue => ({ kind: 'string', value: Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), literal: true });
const list = (...items: ImapValue[]): ImapValue => ({ kind: 'list', items });

/** Words as atoms, `"x"` as quoted strings: enough of the wire format for these tests. */
function args(text: string): ImapValue[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? quoted(m[1]) : atom(m[2]!)));
}

function keys(text: string): SearchKey {
  return parseSearchKeys(args(text));
}

function badReason(values: ImapValue[]): string {
  try {
    parseSearch(values);
  } catch (err) {
    expect(err).toBeInstanceOf(ImapSearchError);
    expect((err as ImapSearchError).kind).toBe('bad');
    return (err as Error).message;
  }
  throw new Error('parsed without an error');
}

const DAY = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

describe('search keys', () => {
  it('reads every RFC 3501 key, in any case', () => {
    expect(keys('all')).toEqual({ kind: 'all' });
    expect(keys('SEEN')).toEqual({ kind: 'flag', flag: 'seen', set: true });
    expect(keys('unseen')).toEqual({ kind: 'flag', flag: 'seen', set: false });
    expect(keys('Flagged')).toEqual({ kind: 'flag', flag: 'flagged', set: true });
    expect(keys('UNFLAGGED')).toEqual({ kind: 'flag', flag: 'flagged', set: false });
    expect(keys('DELETED')).toEqual({ kind: 'flag', flag: 'deleted', set: true });
    expect(keys('UNDELETED')).toEqual({ kind: 'flag', flag: 'deleted', set: false });
    for (const never of ['ANSWERED', 'DRAFT', 'RECENT', 'NEW']) expect(keys(never)).toEqual({ kind: 'none' });
    for (const always of ['UNANSWERED', 'UNDRAFT', 'OLD']) expect(keys(always)).toEqual({ kind: 'all' });
    for (const [key, name] of [['FROM', 'from'], ['TO', 'to'], ['CC', 'cc'], ['BCC', 'bcc'], ['SUBJECT', 'subject']] as const) {
      expect(keys(`${key} "x y"`)).toEqual({ kind: 'string', target: { kind: 'header', name }, value: 'x y' });
    }
    expect(keys('BODY word')).toEqual({ kind: 'string', target: { kind: 'body' }, value: 'word' });
    expect(keys('TEXT "two words"')).toEqual({ kind: 'string', target: { kind: 'text' }, value: 'two words' });
    expect(keys('HEADER X-Mailer "Kotak"')).toEqual({ kind: 'string', target: { kind: 'header', name: 'x-mailer' }, value: 'Kotak' });
    expect(keys('HEADER "Message-ID" ""')).toEqual({ kind: 'string', target: { kind: 'header', name: 'message-id' }, value: '' });
    expect(keys('KEYWORD $Important')).toEqual({ kind: 'keyword', keyword: '$Important', set: true });
    expect(keys('UNKEYWORD work')).toEqual({ kind: 'keyword', keyword: 'work', set: false });
    expect(keys('LARGER 1024')).toEqual({ kind: 'size', op: 'larger', octets: 1024 });
    expect(keys('SMALLER 0')).toEqual({ kind: 'size', op: 'smaller', octets: 0 });
    expect(keys('BEFORE 1-Feb-2024')).toEqual({ kind: 'internal-date', op: 'before', day: DAY('2024-02-01') });
    expect(keys('ON 29-feb-2024')).toEqual({ kind: 'internal-date', op: 'on', day: DAY('2024-02-29') });
    expect(keys('SINCE "01-Dec-2026"')).toEqual({ kind: 'internal-date', op: 'since', day: DAY('2026-12-01') });
    expect(keys('SENTBEFORE 2-Jan-2025')).toEqual({ kind: 'sent-date', op: 'before', day: DAY('2025-01-02') });
    expect(keys('SENTON 2-Jan-2025')).toEqual({ kind: 'sent-date', op: 'on', day: DAY('2025-01-02') });
    expect(keys('SENTSINCE 2-Jan-2025')).toEqual({ kind: 'sent-date', op: 'since', day: DAY('2025-01-02') });
    expect(keys('UID 1:4,9')).toEqual({ kind: 'sequence', uid: true, set: [{ from: 1, to: 4 }, { from: 9, to: 9 }] });
    expect(keys('2:*')).toEqual({ kind: 'sequence', uid: false, set: [{ from: 2, to: null }] });
    expect(keys('NOT SEEN')).toEqual({ kind: 'not', key: { kind: 'flag', flag: 'seen', set: true } });
    expect(keys('OR SEEN FLAGGED')).toEqual({ kind: 'or', left: { kind: 'flag', flag: 'seen', set: true }, right: { kind: 'flag', flag: 'flagged', set: true } });
  });

  it('ANDs the keys of the top level and of each parenthesised group, which nests', () => {
    expect(parseSearchKeys([atom('SEEN'), list(atom('OR'), atom('FLAGGED'), list(atom('DELETED'), atom('1:3'))), atom('NOT'), list(atom('ALL'))])).toEqual({
      kind: 'and',
      keys: [
        { kind: 'flag', flag: 'seen', set: true },
        {
          kind: 'or',
          left: { kind: 'flag', flag: 'flagged', set: true },
          right: { kind: 'and', keys: [{ kind: 'flag', flag: 'deleted', set: true }, { kind: 'sequence', uid: false, set: [{ from: 1, to: 3 }] }] },
        },
        { kind: 'not', key: { kind: 'all' } },
      ],
    });
  });

  it('takes string arguments as atoms, quoted strings or literals, read as UTF-8', () => {
    expect(parseSearchKeys([atom('SUBJECT'), literal('Grüße aus Köln')])).toEqual({ kind: 'string', target: { kind: 'header', name: 'subject' }, value: 'Grüße aus Köln' });
    expect(parseSearchKeys([atom('FROM'), atom('alice@example.com')])).toEqual({ kind: 'string', target: { kind: 'header', name: 'from' }, value: 'alice@example.com' });
    expect(parseSearchKeys([atom('BODY'), quoted('say "hi"')])).toEqual({ kind: 'string', target: { kind: 'body' }, value: 'say "hi"' });
  });

  it('accepts CHARSET UTF-8 and US-ASCII (any case) and refuses the others as BADCHARSET', () => {
    expect(parseSearch(args('CHARSET UTF-8 ALL')).charset).toBe('UTF-8');
    expect(parseSearch(args('charset "us-ascii" SEEN')).charset).toBe('US-ASCII');
    expect(parseSearch(args('SEEN')).charset).toBeNull();
    for (const charset of ['ISO-8859-1', 'UTF-16', 'KOI8-R']) {
      const err = (() => {
        try {
          parseSearch(args(`CHARSET ${charset} SUBJECT x`));
        } catch (e) {
          return e as ImapSearchError;
        }
        throw new Error('no error');
      })();
      expect(err).toBeInstanceOf(ImapSearchError);
      expect(err.kind).toBe('badcharset');
      expect(err.message).toContain('UTF-8');
    }
    expect(badReason(args('CHARSET'))).toMatch(/CHARSET needs a charset name/);
    // CHARSET is only an option before the keys.
    expect(badReason(args('SEEN CHARSET UTF-8'))).toMatch(/unknown search key CHARSET/);
  });

  it('refuses malformed input with a reason that says what was expected', () => {
    expect(badReason([])).toMatch(/at least one search key/);
    expect(badReason(args('FOO'))).toMatch(/unknown search key FOO/);
    expect(badReason(args('SUBJECT'))).toMatch(/SUBJECT needs a string/);
    expect(badReason([atom('SUBJECT'), list()])).toMatch(/not a parenthesised list/);
    expect(badReason(args('SINCE yesterday'))).toMatch(/SINCE needs a date like 1-Feb-2024, got "yesterday"/);
    expect(badReason(args('ON 31-Feb-2024'))).toMatch(/ON needs a date/);
    expect(badReason(args('SENTON 2024-02-01'))).toMatch(/SENTON needs a date/);
    expect(badReason(args('LARGER big'))).toMatch(/LARGER needs a number of octets/);
    expect(badReason(args('SMALLER 99999999999'))).toMatch(/SMALLER needs a number/);
    expect(badReason(args('SMALLER -1'))).toMatch(/SMALLER needs a number/);
    expect(badReason(args('UID'))).toMatch(/UID needs a set of UIDs/);
    expect(badReason(args('UID 0:4'))).toMatch(/UID needs a set of UIDs like 1:4,7,9:\*/);
    expect(badReason(args('1,,2'))).toMatch(/invalid sequence set "1,,2"/);
    expect(badReason(args('0'))).toMatch(/invalid sequence set "0"/);
    expect(badReason(args('NOT'))).toMatch(/NOT needs a search key/);
    expect(badReason(args('OR SEEN'))).toMatch(/OR needs two search keys/);
    expect(badReason([list()])).toMatch(/empty parentheses/);
    expect(badReason(args('HEADER "" x'))).toMatch(/HEADER needs a header field name/);
    expect(badReason(args('HEADER Subject'))).toMatch(/HEADER needs a header field name and a string/);
    expect(badReason(args('KEYWORD'))).toMatch(/KEYWORD needs a keyword/);
    expect(badReason([atom('KEYWORD'), quoted('two words')])).toMatch(/KEYWORD needs a keyword/);
    expect(badReason([quoted('SEEN')])).toMatch(/expected a search key, got the string "SEEN"/);
    expect(badReason([{ kind: 'atom', value: 'BODY', section: [] }])).toMatch(/unknown search key BODY\[…\]/);
    expect(badReason([atom('BODY'), literal(Buffer.from([0x66, 0xff, 0x66]))])).toMatch(/not valid UTF-8/);
    // A client's text is quoted in a reply line: no line breaks or quotes from it get there.
    expect(badReason([atom('FOO"\r\n* BYE')])).not.toMatch(/[\r\n"]BYE/);
  });

  it('bounds nesting and the number of keys', () => {
    const deep = Array.from({ length: MAX_SEARCH_DEPTH + 2 }, () => atom('NOT')).concat(atom('ALL'));
    expect(badReason(deep)).toMatch(/nested too deeply/);
    let nested: ImapValue = atom('ALL');
    for (let i = 0; i < MAX_SEARCH_DEPTH + 2; i++) nested = list(nested);
    expect(badReason([nested])).toMatch(/nested too deeply/);
    expect(badReason(Array.from({ length: 1001 }, () => atom('SEEN')))).toMatch(/too many search keys/);
    expect(parseSearch(Array.from({ length: MAX_SEARCH_DEPTH }, () => atom('NOT')).concat(atom('ALL')))).toBeTruthy();
  });
});

describe('sequence sets', () => {
  it('reads numbers, ranges in either order and *', () => {
    expect(parseSequenceSet('1')).toEqual([{ from: 1, to: 1 }]);
    expect(parseSequenceSet('5:2,*,7:*')).toEqual([{ from: 5, to: 2 }, { from: null, to: null }, { from: 7, to: null }]);
    for (const bad of ['', '0', '01', '1:', ':2', '1,', 'a', '1:2:3', '4294967296']) expect(parseSequenceSet(bad), bad).toBeNull();
    expect(parseSequenceSet('4294967295')).toEqual([{ from: 4294967295, to: 4294967295 }]);
  });

  it('matches * as the largest number, and a range past it as reaching it', () => {
    const set = parseSequenceSet('9:2,*')!;
    const match = sequenceMatcher(set, 20);
    expect([1, 2, 9, 10, 19, 20].filter(match)).toEqual([2, 9, 20]);
    // 30:* with 20 the largest is 20:30: it holds the last message (RFC 3501 6.4.8's rule for UID ranges).
    expect([19, 20].filter(sequenceMatcher(parseSequenceSet('30:*')!, 20))).toEqual([20]);
    // An empty view: * is nothing.
    expect([1].filter(sequenceMatcher(parseSequenceSet('1:*,*')!, null))).toEqual([]);
  });
});

describe('dates', () => {
  it('reads IMAP dates and refuses impossible ones', () => {
    expect(parseImapDate('1-Feb-2024')).toBe(DAY('2024-02-01'));
    expect(parseImapDate('01-FEB-2024')).toBe(DAY('2024-02-01'));
    for (const bad of ['29-Feb-2023', '0-Jan-2024', '1-Foo-2024', '1-Feb-24', '1 Feb 2024', '']) expect(parseImapDate(bad), bad).toBeNull();
  });

  it("takes INTERNALDATE's day in UTC and a Date header's day as written, whatever its zone", () => {
    expect(utcDay(Date.parse('2026-12-07T23:59:59.999Z'))).toBe(DAY('2026-12-07'));
    expect(utcDay(Date.parse('2026-12-08T00:00:00Z'))).toBe(DAY('2026-12-08'));
    expect(writtenDay('Mon, 7 Dec 2026 23:30:00 -0800')).toBe(DAY('2026-12-07'));
    expect(writtenDay('7 Dec 2026 01:30 +1400')).toBe(DAY('2026-12-07'));
    expect(writtenDay('Thu, 01 Jan 70 00:00:00 GMT')).toBe(DAY('1970-01-01'));
    expect(writtenDay('Fri, 3 Jan 25 10:00 +0000')).toBe(DAY('2025-01-03'));
    expect(writtenDay('tomorrow')).toBeNull();
  });
});

describe('what the store is asked for a string key', () => {
  const header = (name: string) => ({ kind: 'header', name }) as const;
  const term = (value: string) => narrowingQuery({ kind: 'body' }, value)?.terms[0];

  it('asks a subject by its longest run the stored subject holds in any case', () => {
    expect(narrowingQuery(header('subject'), 'rder')).toEqual({ terms: [{ kind: 'field', field: 'subject', value: 'rder', negated: false }] });
    // Whitespace may be folded by the parser; a letter with a case outside ASCII is matched exactly by LIKE.
    const subject = (value: string) => narrowingQuery(header('subject'), value)?.terms.map((t) => (t.kind === 'field' ? t.value : t.kind));
    expect(subject('Ärger im Büro')).toEqual(['rger', 'im', 'ro', 'b']);
    expect(subject('日本語 ok')).toEqual(['日本語', 'ok']);
    // Every run is a condition (ANDed), the longest first, at most eight.
    expect(subject('rder number 12')).toEqual(['number', 'rder', '12']);
    expect(subject('a b c d e f g h i j')).toHaveLength(8);
    expect(narrowingQuery(header('subject'), 'É')).toBeNull();
    expect(narrowingQuery(header('subject'), '')).toBeNull();
  });

  it('asks an address field of the stored header as written, not of the parsed address lists', () => {
    // The parsed lists leave out a group's name or a comment, which IMAP matches: the header list keeps them.
    expect(narrowingQuery(header('from'), '"Alice Example" <alice@')?.terms).toEqual([
      { kind: 'may-contain', in: 'header', field: 'from', value: 'example"', negated: false },
      { kind: 'may-contain', in: 'header', field: 'from', value: '"alice', negated: false },
      { kind: 'may-contain', in: 'header', field: 'from', value: 'alice@', negated: false },
    ]);
    expect(narrowingQuery(header('to'), 'undisclosed-recipients:;')?.terms).toEqual([
      { kind: 'may-contain', in: 'header', field: 'to', value: 'undisclosed-recipients:;', negated: false },
    ]);
    // A letter with a case outside ASCII is left out, as the store folds A-Z only.
    expect(narrowingQuery(header('reply-to'), 'Ünal')?.terms[0]).toMatchObject({ in: 'header', field: 'reply-to', value: 'nal' });
    expect(narrowingQuery(header('message-id'), '<abc.123@mail')?.terms[0]).toMatchObject({ field: 'message-id', value: 'abc.123@mail' });
    expect(narrowingQuery(header('bcc'), '<>')).toBeNull();
    // Other header fields: the stored header list, by the field's name (may-contain).
    expect(narrowingQuery(header('x-mailer'), 'Kotak 1')?.terms).toEqual([
      { kind: 'may-contain', in: 'header', field: 'x-mailer', value: 'kotak', negated: false },
      { kind: 'may-contain', in: 'header', field: 'x-mailer', value: '1', negated: false },
    ]);
    // A name that is no RFC 5322 field name (blanks, 8-bit): the parser may not keep the line.
    expect(narrowingQuery(header('from user@domain  fri feb 22 17'), '2008')).toBeNull();
    expect(narrowingQuery(header('ünïcode'), 'x')).toBeNull();
  });

  it('asks a body by the words a substring holds whole, the last as a prefix', () => {
    // "rder" may end a longer word ("Order"): nothing the word index can be asked; the stored texts are.
    expect(term('rder')).toEqual({ kind: 'may-contain', in: 'body', field: null, value: 'rder', negated: false });
    expect(term('invoice')).toMatchObject({ kind: 'may-contain', value: 'invoice' });
    expect(term('ice is attach')).toEqual({ kind: 'text', value: 'is attach', phrase: false, negated: false });
    expect(term(' invoice')).toEqual({ kind: 'text', value: 'invoice', phrase: false, negated: false });
    expect(term('Crème brûlée')).toMatchObject({ value: 'brulee' });
    expect(term('テスト中')).toMatchObject({ value: 'テスト中' });
    expect(term('$$$')).toMatchObject({ kind: 'may-contain', value: '$$$' });
    // Whitespace only: nothing to ask.
    expect(narrowingQuery({ kind: 'body' }, '  ')).toBeNull();
    // TEXT: the header list or the body, each run; no character of U+0080-U+00FF (IMAP reads a name's bytes as Latin-1).
    expect(narrowingQuery({ kind: 'text' }, ' Invoice ¿from:')?.terms.map((t) => (t.kind === 'may-contain' ? [t.in, t.value] : []))).toEqual([
      ['text', 'invoice'],
      ['text', 'from:'],
    ]);
  });
});

describe('arbitrary argument lists', () => {
  it('either parse or throw ImapSearchError, never anything else', () => {
    // A seeded generator (mulberry32): the same lists every run.
    let seed = 421;
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const words = ['ALL', 'NOT', 'OR', 'UID', 'SUBJECT', 'HEADER', 'BODY', 'SINCE', 'LARGER', 'KEYWORD', 'CHARSET', 'UTF-8', '1:*', '*', '0', '4294967296', '1-Jan-2024', '31-Feb-2024', '-1', '', 'x', '\\Seen', 'NIL', '1,', ':'];
    const value = (depth: number): ImapValue => {
      const r = next();
      if (r < 0.6 || depth > 3) return atom(pick(words));
      if (r < 0.75) return { kind: 'atom', value: pick(words), section: [atom('1')], partial: { start: 0, length: null } };
      if (r < 0.9) return literal(Buffer.from(Array.from({ length: Math.floor(next() * 6) }, () => Math.floor(next() * 256))));
      return list(...Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1)));
    };
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      const values = Array.from({ length: Math.floor(next() * 7) }, () => value(0));
      try {
        parseSearch(values);
        parsed++;
      } catch (err) {
        expect(err, JSON.stringify(values)).toBeInstanceOf(ImapSearchError);
        expect((err as Error).message).not.toMatch(/[\r\n]/);
      }
    }
    expect(parsed).toBeGreaterThan(50);
  });
});
