import { afterEach, describe, expect, it, vi } from 'vitest';
import { KotakError } from '../../src/errors.js';
import {
  EMPTY_QUERY,
  MAX_QUERY_LENGTH,
  MAX_QUERY_TERMS,
  parseSearchQuery,
  type SearchTerm,
} from '../../src/mail/search-query.js';

/** The terms of a query that must parse. */
function terms(input: string): readonly SearchTerm[] {
  return parseSearchQuery(input).terms;
}

/** The single term of a one-term query. */
function term(input: string): SearchTerm {
  const parsed = terms(input);
  expect(parsed).toHaveLength(1);
  return parsed[0]!;
}

/** The KotakError a query throws; fails the test if it parses or throws anything else. */
function queryError(input: string): KotakError {
  try {
    parseSearchQuery(input);
  } catch (err) {
    expect(err).toBeInstanceOf(KotakError);
    expect((err as KotakError).code).toBe('invalid_query');
    return err as KotakError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

const text = (value: string, negated = false, phrase = false): SearchTerm => ({ kind: 'text', value, phrase, negated });

describe('parseSearchQuery: words and phrases', () => {
  it('returns no terms for empty or whitespace-only input', () => {
    expect(parseSearchQuery('')).toEqual(EMPTY_QUERY);
    expect(terms(' \t\n  ')).toEqual([]);
  });

  it('splits on any whitespace and keeps the order', () => {
    expect(terms('  invoice\tpaid\nnow ')).toEqual([text('invoice'), text('paid'), text('now')]);
  });

  it('keeps the case and punctuation of plain words', () => {
    expect(terms('Hello, WORLD! foo.bar it\'s 50% #1 a_b')).toEqual(
      ['Hello,', 'WORLD!', 'foo.bar', "it's", '50%', '#1', 'a_b'].map((w) => text(w)),
    );
  });

  it('reads a quoted phrase as one term without its quotes', () => {
    expect(terms('"order confirmed" total')).toEqual([text('order confirmed', false, true), text('total')]);
    expect(term('"single"')).toEqual(text('single', false, true));
  });

  it('keeps quotes that do not open a value', () => {
    expect(terms('5" say"hi there')).toEqual([text('5"'), text('say"hi'), text('there')]);
  });

  it('rejects an unterminated quote', () => {
    expect(queryError('foo "order confirmed').message).toBe('unterminated quote in "order confirmed: add a closing "');
    expect(queryError('subject:"hello').message).toMatch(/unterminated quote/);
  });

  it('rejects text glued to a closing quote', () => {
    expect(queryError('"a b"c').message).toBe('expected a space after the closing quote in "a b"c');
  });

  it('rejects an empty phrase', () => {
    expect(queryError('""').message).toMatch(/empty phrase/);
    expect(queryError('-"  "').message).toMatch(/empty phrase/);
  });

  it('treats URLs, mailto: and times as plain words', () => {
    expect(terms('https://a.b/c http://example.com/x mailto:bob@x.com MAILTO:y 12:30')).toEqual(
      ['https://a.b/c', 'http://example.com/x', 'mailto:bob@x.com', 'MAILTO:y', '12:30'].map((w) => text(w)),
    );
  });

  it('treats a quoted operator as a phrase', () => {
    expect(term('"to:bob"')).toEqual(text('to:bob', false, true));
  });
});

describe('parseSearchQuery: negation', () => {
  it('negates words, phrases, fields, flags, dates and sizes with - or !', () => {
    expect(term('-word')).toEqual(text('word', true));
    expect(term('!word')).toEqual(text('word', true));
    expect(term('-"a phrase"')).toEqual(text('a phrase', true, true));
    expect(term('!subject:foo')).toEqual({ kind: 'field', field: 'subject', value: 'foo', negated: true });
    expect(term('-is:read')).toEqual({ kind: 'flag', flag: 'read', negated: true });
    expect(term('!has:attachment')).toEqual({ kind: 'flag', flag: 'attachment', negated: true });
    expect(term('-before:2024-05-31')).toMatchObject({ kind: 'date', op: 'before', negated: true });
    expect(term('-larger:1k')).toEqual({ kind: 'size', op: 'larger', bytes: 1024, negated: true });
    expect(term('-https://a.b')).toEqual(text('https://a.b', true));
  });

  it('only strips one negation sign', () => {
    expect(term('--x')).toEqual(text('-x', true));
  });

  it('does not negate on a - or ! inside a word', () => {
    expect(terms('e-mail wow!')).toEqual([text('e-mail'), text('wow!')]);
  });

  it('rejects a lone - or !', () => {
    expect(queryError('foo - bar').message).toMatch(/"-" must be followed directly by the term to exclude/);
    expect(queryError('foo !').message).toMatch(/"!" must be followed directly/);
    expect(queryError('-').message).toMatch(/must be followed/);
  });
});

describe('parseSearchQuery: field operators', () => {
  it.each([
    ['to', 'to'],
    ['from', 'from'],
    ['cc', 'cc'],
    ['bcc', 'bcc'],
    ['reply-to', 'reply-to'],
    ['addressed', 'addressed'],
    ['subject', 'subject'],
    ['message-id', 'message-id'],
  ] as const)('reads %s:', (name, field) => {
    expect(term(`${name}:Bob@Example.com`)).toEqual({ kind: 'field', field, value: 'Bob@Example.com', negated: false });
  });

  it('matches operator names case-insensitively and keeps the value as typed', () => {
    expect(term('FROM:Alice')).toEqual({ kind: 'field', field: 'from', value: 'Alice', negated: false });
    expect(term('Reply-To:x@y')).toMatchObject({ field: 'reply-to', value: 'x@y' });
    expect(term('subject:Re:Hello,')).toMatchObject({ field: 'subject', value: 'Re:Hello,' });
  });

  it('reads a quoted value, spaces included', () => {
    expect(terms('subject:"hello world" from:"Bob Smith"')).toEqual([
      { kind: 'field', field: 'subject', value: 'hello world', negated: false },
      { kind: 'field', field: 'from', value: 'Bob Smith', negated: false },
    ]);
    expect(term('subject:"  padded "')).toMatchObject({ value: '  padded ' });
  });

  it('strips the angle brackets of a message-id', () => {
    expect(term('message-id:<abc@x>')).toMatchObject({ field: 'message-id', value: 'abc@x' });
    expect(term('message-id:"<abc@x>"')).toMatchObject({ value: 'abc@x' });
    expect(term('message-id:abc@x')).toMatchObject({ value: 'abc@x' });
    expect(queryError('message-id:<>').message).toMatch(/message-id: needs a value/);
  });

  it('requires a non-empty value', () => {
    expect(queryError('to:').message).toBe('to: needs a value, e.g. to:alice@example.com');
    expect(queryError('subject: hello').message).toMatch(/^subject: needs a value/);
    expect(queryError('from:""').message).toMatch(/^from: needs a value/);
    expect(queryError('cc:" "').message).toMatch(/^cc: needs a value/);
    expect(queryError('is:').message).toMatch(/^is: needs a value, e.g. is:unread/);
    expect(queryError('larger:').message).toMatch(/^larger: needs a value/);
  });
});

describe('parseSearchQuery: unknown operators and tags', () => {
  it('rejects an unknown operator, listing the known ones', () => {
    const message = queryError('foo:bar').message;
    expect(message).toBe(
      'unknown operator "foo:" (known: to:, from:, cc:, bcc:, reply-to:, addressed:, subject:, message-id:, tag:, ' +
        'is:, has:, before:, after:, larger:, smaller:, mailbox:); to search for the text itself, put it in quotes: "foo:bar"',
    );
  });

  it('names the operator as typed', () => {
    expect(queryError('x-y:1').message).toMatch(/^unknown operator "x-y:"/);
    expect(queryError('Re:x').message).toMatch(/^unknown operator "Re:"/);
  });

  it('reads a word that ends in a colon, as in a reply subject, as text', () => {
    expect(parseSearchQuery('Re: meeting').terms).toEqual([
      { kind: 'text', value: 'Re:', phrase: false, negated: false },
      { kind: 'text', value: 'meeting', phrase: false, negated: false },
    ]);
    expect(parseSearchQuery('-Fwd:').terms).toEqual([{ kind: 'text', value: 'Fwd:', phrase: false, negated: true }]);
  });

  it('is not fooled by Object.prototype names', () => {
    expect(queryError('constructor:x').message).toMatch(/^unknown operator "constructor:"/);
    expect(queryError('is:constructor').message).toMatch(/^unknown is: value/);
    expect(queryError('has:toString').message).toMatch(/^unknown has: value/);
  });

  it('reads tag: and is:tagged', () => {
    expect(parseSearchQuery('tag:important -TAG:"Tag 2" is:tagged').terms).toEqual([
      { kind: 'field', field: 'tag', value: 'important', negated: false },
      { kind: 'field', field: 'tag', value: 'Tag 2', negated: true },
      { kind: 'flag', flag: 'tagged', negated: false },
    ]);
    expect(queryError('tag:').message).toBe('tag: needs a value, e.g. tag:important');
  });
});

describe('parseSearchQuery: flags', () => {
  it.each([
    ['is:read', 'read'],
    ['is:unread', 'unread'],
    ['IS:UnRead', 'unread'],
    ['is:tagged', 'tagged'],
    ['has:attachment', 'attachment'],
    ['has:attachments', 'attachment'],
    ['has:inline', 'inline'],
    ['has:inlines', 'inline'],
    ['has:"inline"', 'inline'],
  ] as const)('%s', (input, flag) => {
    expect(term(input)).toEqual({ kind: 'flag', flag, negated: false });
  });

  it('rejects unknown is: and has: values, listing the known ones', () => {
    expect(queryError('is:starred').message).toBe('unknown is: value "starred" (known: is:read, is:unread, is:tagged)');
    expect(queryError('has:pdf').message).toBe(
      'unknown has: value "pdf" (known: has:attachment, has:attachments, has:inline, has:inlines)',
    );
  });
});

describe('parseSearchQuery: dates', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const at = (input: string): number => {
    const parsed = term(input);
    if (parsed.kind !== 'date') throw new Error(`not a date term: ${JSON.stringify(parsed)}`);
    return parsed.at;
  };

  it('reads before: and after:', () => {
    expect(term('before:2024-05-31')).toEqual({
      kind: 'date',
      op: 'before',
      at: new Date(2024, 4, 31).getTime(),
      negated: false,
    });
    expect(term('AFTER:2024-05-31')).toMatchObject({ kind: 'date', op: 'after' });
  });

  it('reads a date without a zone as local midnight', () => {
    expect(at('after:2024-05-31')).toBe(new Date(2024, 4, 31).getTime());
    expect(at('after:2024/05/31')).toBe(new Date(2024, 4, 31).getTime());
    expect(at('after:2024-1-5')).toBe(new Date(2024, 0, 5).getTime());
  });

  it('reads a local date and time', () => {
    expect(at('after:2024-05-31T14:30')).toBe(new Date(2024, 4, 31, 14, 30).getTime());
    expect(at('after:2024-05-31T14:30:15')).toBe(new Date(2024, 4, 31, 14, 30, 15).getTime());
    expect(at('after:"2024-05-31 14:30"')).toBe(new Date(2024, 4, 31, 14, 30).getTime());
  });

  it('reads a date and time with a zone', () => {
    expect(at('after:2024-05-31T14:30Z')).toBe(Date.UTC(2024, 4, 31, 14, 30));
    expect(at('after:2024-05-31T14:30:15z')).toBe(Date.UTC(2024, 4, 31, 14, 30, 15));
    expect(at('after:2024-05-31T14:30+02:00')).toBe(Date.UTC(2024, 4, 31, 12, 30));
    expect(at('after:2024-05-31T14:30:00-05:30')).toBe(Date.UTC(2024, 4, 31, 20, 0));
    expect(at('after:2024-05-31T14:30+02:00')).toBe(new Date('2024-05-31T14:30:00+02:00').getTime());
  });

  it('reads today and yesterday as local midnight', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date(2024, 2, 1, 15, 45)); // 1 March: yesterday is in February
    expect(at('after:today')).toBe(new Date(2024, 2, 1).getTime());
    expect(at('before:Yesterday')).toBe(new Date(2024, 1, 29).getTime());
  });

  it.each([
    'after:2024-13-01',
    'after:2024-02-30',
    'after:2023-02-29',
    'after:2024-05-31T24:00',
    'after:2024-05-31T14:60',
    'after:2024-05-31T14:30+24:00',
    'after:2024-05-31Z',
    'after:2024-05/31',
    'after:31-05-2024',
    'after:2024-05-31T14',
    'after:tomorrow',
    'after:"2024-05-31 14:30 UTC"',
  ])('rejects %s with an example of a valid date', (input) => {
    const message = queryError(input).message;
    expect(message).toMatch(/^invalid date ".*" for after: \(examples: after:2024-05-31, /);
    expect(message).toContain('after:today');
  });

  it('accepts the leap day of a leap year', () => {
    expect(at('before:2024-02-29')).toBe(new Date(2024, 1, 29).getTime());
  });

  it('reads an unquoted date and time as two terms, the time being a plain word', () => {
    expect(terms('after:2024-05-31 14:30')).toEqual([
      { kind: 'date', op: 'after', at: new Date(2024, 4, 31).getTime(), negated: false },
      text('14:30'),
    ]);
  });
});

describe('parseSearchQuery: sizes', () => {
  it.each([
    ['larger:2kb', 'larger', 2048],
    ['larger:2KB', 'larger', 2048],
    ['smaller:1.5M', 'smaller', 1.5 * 1024 * 1024],
    ['smaller:1024', 'smaller', 1024],
    ['larger:"10 MB"', 'larger', 10 * 1024 * 1024],
    ['larger:1g', 'larger', 1024 ** 3],
  ] as const)('%s', (input, op, bytes) => {
    expect(term(input)).toEqual({ kind: 'size', op, bytes, negated: false });
  });

  it.each(['larger:big', 'smaller:-1k', 'larger:2tb', 'smaller:1.5.5M'])(
    'rejects %s as an invalid_query with examples',
    (input) => {
      const err = queryError(input);
      expect(err.message).toMatch(/^invalid size ".*" for (larger|smaller): \(examples: (larger|smaller):1024, /);
      expect(err.cause).toBeInstanceOf(KotakError);
    },
  );
});

describe('parseSearchQuery: combined queries', () => {
  it('parses a realistic query', () => {
    expect(terms('invoice from:shop@example.com -is:read "order confirmed" after:2024-05-01 larger:2kb')).toEqual([
      text('invoice'),
      { kind: 'field', field: 'from', value: 'shop@example.com', negated: false },
      { kind: 'flag', flag: 'read', negated: true },
      text('order confirmed', false, true),
      { kind: 'date', op: 'after', at: new Date(2024, 4, 1).getTime(), negated: false },
      { kind: 'size', op: 'larger', bytes: 2048, negated: false },
    ]);
  });
});

describe('parseSearchQuery: limits', () => {
  it(`accepts ${MAX_QUERY_LENGTH} characters and rejects more`, () => {
    expect(terms('a'.repeat(MAX_QUERY_LENGTH))).toHaveLength(1);
    expect(queryError('a'.repeat(MAX_QUERY_LENGTH + 1)).message).toBe(
      `search query is too long (${MAX_QUERY_LENGTH + 1} characters; the limit is ${MAX_QUERY_LENGTH})`,
    );
  });

  it('refuses a NUL character anywhere, which SQLite would read as the end of a pattern', () => {
    for (const query of ['a\0b', 'subject:a\0b', '"a\0b"', '-to:\0', 'word \0']) {
      expect(queryError(query).message, JSON.stringify(query)).toBe('search query contains a NUL character (U+0000), which cannot be searched for');
    }
    expect(terms('a\u0001b')).toHaveLength(1); // other control characters are only separators to the index
  });

  it(`accepts ${MAX_QUERY_TERMS} terms and rejects more`, () => {
    expect(terms(Array(MAX_QUERY_TERMS).fill('w').join(' '))).toHaveLength(MAX_QUERY_TERMS);
    expect(queryError(Array(MAX_QUERY_TERMS + 1).fill('w').join(' ')).message).toBe(
      `too many search terms (the limit is ${MAX_QUERY_TERMS})`,
    );
  });

  it('cuts long user text short in error messages', () => {
    const message = queryError(`"${'x'.repeat(200)}`).message;
    expect(message.length).toBeLessThan(100);
    expect(message).toContain('…');
  });
});

describe('EMPTY_QUERY', () => {
  it('has no terms and cannot be mutated', () => {
    expect(EMPTY_QUERY.terms).toEqual([]);
    expect(Object.isFrozen(EMPTY_QUERY)).toBe(true);
    expect(Object.isFrozen(EMPTY_QUERY.terms)).toBe(true);
  });
});

describe('parseSearchQuery: mailbox', () => {
  it('reads mailbox:NAME case-folded, negated with - or !', () => {
    expect(term('mailbox:W3')).toEqual({ kind: 'mailbox', name: 'w3', negated: false });
    expect(term('-mailbox:w3.b_c-1')).toEqual({ kind: 'mailbox', name: 'w3.b_c-1', negated: true });
    expect(term('!MAILBOX:"default"')).toEqual({ kind: 'mailbox', name: 'default', negated: true });
  });

  it('refuses a value that is no mailbox name', () => {
    for (const bad of ['mailbox:a/b', 'mailbox:-x', 'mailbox:"a b"', `mailbox:${'x'.repeat(65)}`, 'mailbox:ümlaut']) {
      expect(queryError(bad).message, bad).toContain('not a mailbox name');
    }
    expect(queryError('mailbox:').message).toContain('mailbox:w3');
  });
});
