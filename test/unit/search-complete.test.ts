/**
 * The search box's completion (web/src/search-complete.ts): operators and values offered for the
 * word at the caret, and every operator the server reads (and only those) offered.
 */
import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { awaitingValue, completions, OPERATORS } from '../../web/src/search-complete.js';

const sources = { tags: ['urgent', 'needs review'], mailboxes: ['default', 'w3'] };
const labels = (text: string, caret = text.length, all = false) => completions(text, caret, sources, { all, today: new Date(2026, 11, 6) }).map((c) => c.label);

describe('search completion', () => {
  it('offers exactly the operators the server knows', () => {
    let known = '';
    try {
      parseSearchQuery('nosuchoperator:x');
    } catch (err) {
      known = /known: ([^)]*)\)/.exec((err as Error).message)?.[1] ?? '';
    }
    expect(OPERATORS.map(([name]) => `${name}:`).sort()).toEqual(known.split(', ').sort());
  });

  it('completes an operator from its first letters, keeping the negation and the rest of the query', () => {
    expect(labels('invoice fr')).toEqual(['from:']);
    // A whole operator name typed without its colon is still offered (the colon is what it lacks).
    expect(labels('is')).toEqual(['is:']);
    expect(labels('s')).toEqual(['subject:', 'smaller:']);
    const [choice] = completions('-ha x', 3, sources);
    expect(choice).toMatchObject({ label: 'has:', value: '-has: x', caret: 5 });
    expect(labels('')).toEqual([]);
    expect(labels('', 0, true)).toHaveLength(12);
  });

  it('completes the values it knows, quoting one with a space', () => {
    expect(labels('is:')).toEqual(['is:read', 'is:unread', 'is:tagged']);
    expect(labels('is:un')).toEqual(['is:unread']);
    expect(labels('has:a')).toEqual(['has:attachment']);
    expect(labels('mailbox:')).toEqual(['mailbox:default', 'mailbox:w3']);
    expect(labels('after:')).toEqual(['after:today', 'after:yesterday', 'after:2026-12-06']);
    const [tag] = completions('tag:ne', 6, sources);
    expect(tag).toMatchObject({ label: 'tag:needs review', value: 'tag:"needs review" ', caret: 19 });
    expect(labels('from:')).toEqual([]);
    // Inside a quoted phrase nothing is an operator.
    expect(labels('"fr')).toEqual([]);
  });

  it('knows when a query still waits for an operator value', () => {
    expect(awaitingValue('invoice from:')).toBe(true);
    expect(awaitingValue('-is:')).toBe(true);
    expect(awaitingValue('subject:"')).toBe(true);
    expect(awaitingValue('from:a')).toBe(false);
    expect(awaitingValue('12:')).toBe(false);
  });
});
