/**
 * `POST /api/tags/apply`: intake's tag sources (tag-rules.ts) applied to messages already stored,
 * e.g. after adding a `--tag-rule`, or to mail caught before it. Tags are only added (a message
 * keeps every tag it has). Reads page by page, newest first, so any number of messages costs a
 * page of memory; header, plus-address and SMTP-user sources read each message's detail (its
 * headers and envelope), rules are decided from the summary or by the store's search.
 */
import type { MailboxScope } from '../mail/mailbox-scope.js';
import type { SearchQuery } from '../mail/search-query.js';
import type { MessageStore } from '../store/types.js';
import type { MailboxService } from './service.js';
import { tagsOf, type TagRule, type TagSources } from './tag-rules.js';

export interface TagApplyResult {
  /** Messages looked at (those matching the request's query in its scope). */
  readonly scanned: number;
  /** Messages that got at least one tag they did not have. */
  readonly tagged: number;
}

const PAGE = 500;

export async function applyTagSources(
  deps: { readonly store: MessageStore; readonly mailboxes: MailboxService; readonly sources: TagSources },
  scope: MailboxScope,
  query: SearchQuery,
): Promise<TagApplyResult> {
  const { store, mailboxes, sources } = deps;
  const readsDetail = sources.header || sources.plus || sources.smtpUser;
  let scanned = 0;
  const tagged = new Set<string>();
  let cursor: string | null = null;
  do {
    const page = await store.list(scope, { query, limit: PAGE, cursor });
    cursor = page.nextCursor;
    scanned += page.messages.length;
    const idsByTag = new Map<string, string[]>();
    const add = (tag: string, id: string): void => void (idsByTag.get(tag) ?? idsByTag.set(tag, []).get(tag)!).push(id);
    const undecided = new Map<TagRule, string[]>();
    for (const summary of page.messages) {
      const detail = readsDetail ? await store.get(scope, summary.id) : null;
      if (readsDetail && !detail) continue; // deleted since the page was read
      const found = tagsOf(sources, { summary, headers: detail?.headers ?? [], envelope: detail?.envelope ?? NO_ENVELOPE });
      for (const tag of found.tags) add(tag, summary.id);
      for (const rule of found.undecided) (undecided.get(rule) ?? undecided.set(rule, []).get(rule)!).push(summary.id);
    }
    for (const [rule, ids] of undecided) {
      for (const m of await store.find(scope, { query: rule.query, ids, limit: ids.length })) add(rule.tag, m.id);
    }
    for (const [tag, ids] of idsByTag) for (const id of await mailboxes.changeTags(scope, ids, [tag], [])) tagged.add(id);
  } while (cursor !== null);
  return { scanned, tagged: tagged.size };
}

/** What tagsOf is given when only rules are on: they read the summary, never the envelope, so no detail is loaded. */
const NO_ENVELOPE = { mailFrom: '', rcptTo: [], clientAddress: '', heloName: '', user: null, tls: false } as const;
