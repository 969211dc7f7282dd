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
    subject: asciiFold(summary.subject),
    messageId: asciiFold(summary.messageId ?? ''),
    // As the store writes its *_search columns: lower-cased "Name <address>" lists.
    from: asciiFold(addressSearchText(summary.from ? [summary.from] : [])),
    to: asciiFold(addressSearchText(summary.to)),
    cc: asciiFold(addressSearchText(summary.cc)),
    bcc: asciiFold(addressSearchText(summary.bcc)),
  };
}

/** As search-sql's LIKE pattern: the value lower-cased, then compared ASCII-insensitively. */
function likeContains(folded: string, value: string): boolean {
  return folded.includes(asciiFold(value.toLowerCase()));
}

function termMatches(term: SearchTerm, view: MatchView): boolean | null {
  const message = view.summary;
  switch (term.kind) {
    case 'field':
      switch (term.field) {
        case 'subject':
        case 'message-id':
        case 'from':
        case 'to':
        case 'cc':
        case 'bcc':
          return likeContains(view[term.field === 'message-id' ? 'messageId' : term.field], term.value);
        default:
          // Reply-To is not in a summary.
          return null;
      }
    case 'flag':
      switch (term.flag) {
        case 'read':
          return message.read;
        case 'unread':
          return !message.read;
        case 'attachment':
          return message.hasAttachments;
        default:
          return null;
      }
    case 'date': {
      const at = Date.parse(message.receivedAt);
      return term.op === 'before' ? at < term.at : at >= term.at;
    }
    case 'size':
      return term.op === 'larger' ? message.size > term.bytes : message.size < term.bytes;
    case 'text':
      // Full-text terms follow FTS5's tokenizer; only the index can answer them exactly.
      return null;
  }
}

export function matchSummary(query: SearchQuery, message: MessageSummary | MatchView): MatchResult {
  const view = 'summary' in message ? message : matchView(message);
  let undecided = false;
  for (const term of query.terms) {
    const result = termMatches(term, view);
    if (result === null) {
      undecided = true;
      continue;
    }
    // AND of terms: one decided failure settles it, whatever the undecided ones say.
    if (result === term.negated) return 'no-match';
  }
  return undecided ? 'undecided' : 'match';
}
