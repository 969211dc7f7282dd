/**
 * MailHog's paging (start/limit offsets) and its three search kinds, answered by Kotak's store.
 *
 * MailHog's meanings (mailhog/storage, InMemory.Search), and how close each gets here:
 * - from: the envelope sender or the raw From header contains the text. Here: the From header
 *   (display name and address, decoded) contains it. The envelope sender is not consulted, so a
 *   message whose MAIL FROM differs from its From header (bounces, VERP) is found by its header.
 * - to: an envelope recipient or the raw To header contains the text. Here: the To or Cc header or
 *   a hidden recipient contains it; hidden recipients are the envelope recipients that no To or Cc
 *   names (plus a Bcc header), so this covers every envelope recipient and the To header.
 * - containing: the raw (still encoded) body or any header value contains the text. Here: the text
 *   occurs, as words with the last one possibly cut short, in the decoded subject, addresses,
 *   text and HTML bodies or attachment names. So encoded subjects and base64 bodies are found
 *   (MailHog missed them), while text inside a word ("voice" in "invoice") and headers other than
 *   subject and addresses are not.
 */
import { KotakError } from '../../errors.js';
import type { MailboxScope } from '../../mail/mailbox-scope.js';
import { EMPTY_QUERY, MAX_QUERY_LENGTH, refuseNul, type SearchQuery, type SearchTerm } from '../../mail/search-query.js';
import type { MessageSummary } from '../../mail/types.js';
import type { MessageStore } from '../../store/types.js';

export type SearchKind = 'from' | 'to' | 'containing';

export interface PageWindow {
  readonly start: number;
  readonly limit: number;
}

/** Ids of one window of matches, newest first, and how many match in all. */
export interface IdPage {
  readonly total: number;
  readonly ids: string[];
}

/** MailHog's defaults and ceiling for start/limit (MailHog-Server api/v2.go). */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 250;
/** Skipping to a far `start` reads summaries in pages of at most this many. */
const MAX_CHUNK = 1000;

/** As MailHog reads them: anything that is not a positive integer means the default. */
export function pageWindow(start: string | undefined, limit: string | undefined): PageWindow {
  const positive = (text: string | undefined): number | null => (text !== undefined && /^\+?\d{1,15}$/.test(text) && Number(text) > 0 ? Number(text) : null);
  return { start: positive(start) ?? 0, limit: Math.min(positive(limit) ?? DEFAULT_LIMIT, MAX_LIMIT) };
}

export function parseKind(kind: string | undefined): SearchKind {
  if (kind === 'from' || kind === 'to' || kind === 'containing') return kind;
  throw new KotakError('invalid_request', `kind must be from, to or containing${kind ? `, not "${kind.slice(0, 40)}"` : ''}`);
}

/** `scope`: the caller's mailboxes; totals and pages count only them. */
export function listPage(store: MessageStore, scope: MailboxScope, window: PageWindow): Promise<IdPage> {
  return windowOf(store, scope, EMPTY_QUERY, window, null);
}

export async function searchPage(store: MessageStore, scope: MailboxScope, kind: SearchKind, text: string | undefined, window: PageWindow): Promise<IdPage> {
  if (text === undefined || text === '') throw new KotakError('invalid_request', 'query must not be empty');
  // The same bound as Kotak's own search syntax: each term is a LIKE or FTS clause.
  if (text.length > MAX_QUERY_LENGTH) throw new KotakError('invalid_query', `query is too long (${text.length} characters; the limit is ${MAX_QUERY_LENGTH})`);
  refuseNul(text);
  switch (kind) {
    case 'from':
      return windowOf(store, scope, { terms: [field('from', text)] }, window, null);
    case 'containing':
      return windowOf(store, scope, { terms: [{ kind: 'text', value: text, phrase: false, negated: false }] }, window, null);
    case 'to':
      return recipientWindow(store, scope, text, window);
  }
}

const field = (name: Extract<SearchTerm, { kind: 'field' }>['field'], value: string, negated = false): SearchTerm => ({ kind: 'field', field: name, value, negated });

/**
 * Terms are AND-ed, so "To, Cc or hidden recipient contains x" cannot be one query. It is
 * `addressed:x` (any address field) minus the messages that match only in From or Reply-To:
 * `addressed:x -to:x -cc:x -bcc:x`. Counting both gives the exact total; the page walks the first
 * and drops the second's members.
 */
async function recipientWindow(store: MessageStore, scope: MailboxScope, text: string, window: PageWindow): Promise<IdPage> {
  const anywhere: SearchQuery = { terms: [field('addressed', text)] };
  const senderOnly: SearchQuery = { terms: [field('addressed', text), field('to', text, true), field('cc', text, true), field('bcc', text, true)] };
  const excluded = (await store.list(scope, { query: senderOnly, limit: 0 })).total;
  if (excluded === 0) return windowOf(store, scope, anywhere, window, null);
  const dropSenderOnly = async (page: readonly MessageSummary[]): Promise<Set<string>> => {
    const ids = page.map((m) => m.id);
    const drop = new Set((await store.find(scope, { query: senderOnly, ids, limit: ids.length })).map((m) => m.id));
    return new Set(ids.filter((id) => !drop.has(id)));
  };
  const page = await windowOf(store, scope, anywhere, window, dropSenderOnly);
  return { total: page.total - excluded, ids: page.ids };
}

/**
 * Offsets over Kotak's cursor pages: skip `start` matches, keep the next `limit`, newest first.
 * `keep`, when given, filters each page further; `total` is then the unfiltered count.
 */
async function windowOf(
  store: MessageStore,
  scope: MailboxScope,
  query: SearchQuery,
  { start, limit }: PageWindow,
  keep: ((page: readonly MessageSummary[]) => Promise<Set<string>>) | null,
): Promise<IdPage> {
  const chunk = Math.min(start + limit, MAX_CHUNK);
  const ids: string[] = [];
  let skipped = 0;
  let total = 0;
  let cursor: string | null = null;
  for (;;) {
    const page = await store.list(scope, { query, limit: chunk, cursor });
    total = page.total;
    const kept = keep ? await keep(page.messages) : null;
    for (const message of page.messages) {
      if (kept && !kept.has(message.id)) continue;
      if (skipped < start) skipped += 1;
      else if (ids.length < limit) ids.push(message.id);
    }
    if (ids.length >= limit || page.nextCursor === null || start >= total) break;
    cursor = page.nextCursor;
  }
  return { total, ids };
}
