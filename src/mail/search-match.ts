/**
 * Decides, without the database, whether a just-stored message matches a search query — for the
 * terms whose SQL meaning (src/store/search-sql.ts) can be reproduced exactly from a summary.
 * Anything else answers `undecided`, and the caller asks the database. Waiters use this so that
 * a thousand of them cost a thousand string checks per message, not a thousand queries.
 */
import type { SearchQuery, SearchTerm } from './search-query.js';
import { addressSearchText } from './summary.js';
import type { MessageSummary } from './types.js';

export type MatchResult = 'match' | 'no-match' | 'undecided';

/** SQLite's LIKE folds ASCII letters only; folding the same way keeps both answers identical. */
function asciiFold(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** A message's searchable fields, folded once however many queries look at it. */
export interface MatchView {
  readonly summary: MessageSummary;
  /** Epoch ms. */
  readonly receivedAt: number;
  readonly subject: string;
  readonly messageId: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly bcc: string;
}

export function matchView(summary: MessageSummary): MatchView {
  return {
    summary,
    receivedAt: Date.parse(summary.receivedAt),
    subject: asciiFold(summary.subject),
    messageId: asciiFold(summary.messageId ?? ''),
    // As the store writes its *_search columns: lower-cased "Name <address>" lists.
    from: asciiFold(addressSearchText(summary.from ? [summary.from] : [])),
    to: asciiFold(addressSearchText(summary.to)),
    cc: asciiFold(addressSearchText(summary.cc)),
    bcc: asciiFold(addressSearchText(summary.bcc)),
  };
}

export type FoldedField = 'subject' | 'messageId' | 'from' | 'to' | 'cc' | 'bcc';

const FIELD_OF: Partial<Record<Extract<SearchTerm, { kind: 'field' }>['field'], FoldedField>> = {
  subject: 'subject',
  'message-id': 'messageId',
  from: 'from',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
};

/** One term as a test on a view; null when a summary cannot answer it. */
type TermTest = (view: MatchView) => boolean;

function compileTerm(term: SearchTerm): TermTest | null {
  switch (term.kind) {
    case 'field': {
      const field = FIELD_OF[term.field];
      // Reply-To (and "addressed", which includes it) is not in a summary.
      if (!field) return null;
      // As search-sql's LIKE pattern: the value lower-cased, then compared ASCII-insensitively.
      const needle = asciiFold(term.value.toLowerCase());
      return (view) => view[field].includes(needle);
    }
    case 'flag':
      switch (term.flag) {
        case 'read':
          return (view) => view.summary.read;
        case 'unread':
          return (view) => !view.summary.read;
        case 'attachment':
          return (view) => view.summary.hasAttachments;
        default:
          return null;
      }
    case 'date': {
      const at = term.at;
      return term.op === 'before' ? (view) => view.receivedAt < at : (view) => view.receivedAt >= at;
    }
    case 'size': {
      const bytes = term.bytes;
      return term.op === 'larger' ? (view) => view.summary.size > bytes : (view) => view.summary.size < bytes;
    }
    case 'mailbox': {
      // As search-sql's `m.mailbox = ?`: both sides are folded names.
      const name = term.name;
      return (view) => view.summary.mailbox === name;
    }
    case 'text':
      // Full-text terms follow FTS5's tokenizer; only the index can answer them exactly.
      return null;
    case 'may-contain':
    case 'may-be-sent':
    case 'text-unknown':
      // IMAP's narrowing terms read stored texts a summary does not hold; no waiter asks them.
      return null;
  }
}

/**
 * Compiles a query once into a test on prepared views: a waiter is checked against every stored
 * message, so the per-message work is a few `includes` on pre-folded strings.
 */
export function compileMatcher(query: SearchQuery): (view: MatchView) => MatchResult {
  const tests: { test: TermTest; negated: boolean }[] = [];
  let undecided = false;
  for (const term of query.terms) {
    const test = compileTerm(term);
    if (test) tests.push({ test, negated: term.negated });
    else undecided = true;
  }
  return (view) => {
    // AND of terms: one decided failure settles it, whatever the undecided ones say.
    for (const { test, negated } of tests) if (test(view) === negated) return 'no-match';
    return undecided ? 'undecided' : 'match';
  };
}

export function matchSummary(query: SearchQuery, message: MessageSummary | MatchView): MatchResult {
  return compileMatcher(query)('summary' in message ? message : matchView(message));
}

/**
 * A substring every matching message must contain in one field (a positive field term, folded as
 * the matcher folds it), for indexing waiters; null when the query has none.
 */
export function requiredSubstring(query: SearchQuery): { field: FoldedField; needle: string } | null {
  let best: { field: FoldedField; needle: string } | null = null;
  for (const term of query.terms) {
    if (term.kind !== 'field' || term.negated) continue;
    const field = FIELD_OF[term.field];
    if (!field) continue;
    const needle = asciiFold(term.value.toLowerCase());
    if (!best || needle.length > best.needle.length) best = { field, needle };
  }
  return best;
}
