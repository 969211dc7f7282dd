/**
 * Tags a message gets when it arrives (issue 22, "Tag rules"), from four sources, as Mailpit
 * tags at ingest:
 *   - its `X-Tags: a, b` header (on unless turned off: Mailpit's default, and what its send API writes);
 *   - plus-addressing `user+tag1+tag2@domain` in its recipients and From/To/Cc (`--tags-from-plus`);
 *   - the SMTP AUTH user it was sent as (`--tag-smtp-user`);
 *   - rules `QUERY=TAG` in Kotak's search language (`--tag-rule`).
 * Pure: settings and a message in, tag names out. A rule the in-memory matcher can decide
 * (search-match.ts: address, subject, flag, date, size and mailbox terms) is decided here, before
 * the insert; a rule with full-text terms only the store's index can answer is returned as
 * `undecided`, for the caller to ask the store once the message is committed.
 */
import { KotakError } from '../errors.js';
import { compileMatcher, matchView, type MatchResult, type MatchView } from '../mail/search-match.js';
import { parseSearchQuery, type SearchQuery } from '../mail/search-query.js';
import type { Address, Envelope, Header, MessageSummary } from '../mail/types.js';
import { cleanTag, cleanTags } from './tag-names.js';

export interface TagRule {
  /** As given, for logs and errors. */
  readonly text: string;
  readonly query: SearchQuery;
  readonly tag: string;
  readonly matches: (view: MatchView) => MatchResult;
}

export interface TagSources {
  /** Tags from the X-Tags header. */
  readonly header: boolean;
  /** Tags from `+tag` in the local part of recipients and From/To/Cc. */
  readonly plus: boolean;
  /** The SMTP AUTH user's name as a tag. */
  readonly smtpUser: boolean;
  readonly rules: readonly TagRule[];
}

export const NO_TAG_SOURCES: TagSources = { header: false, plus: false, smtpUser: false, rules: [] };

export interface TagSettings {
  readonly ignoreXTags: boolean;
  readonly tagsFromPlus: boolean;
  readonly tagSmtpUser: boolean;
  readonly tagRule: readonly string[];
}

/** The sources the settings ask for; a rule that does not read is an `invalid_config` naming it. */
export function compileTagSources(settings: TagSettings): TagSources {
  const rules = settings.tagRule.map((text) => {
    try {
      return parseTagRule(text);
    } catch (err) {
      throw new KotakError('invalid_config', `--tag-rule: ${(err as Error).message}`);
    }
  });
  return { header: !settings.ignoreXTags, plus: settings.tagsFromPlus, smtpUser: settings.tagSmtpUser, rules };
}

/** Whether any source can tag a message (when none can, intake does no tag work at all). */
export function tagsAnything(sources: TagSources): boolean {
  return sources.header || sources.plus || sources.smtpUser || sources.rules.length > 0;
}

/**
 * `QUERY=TAG`: split at the last `=`, since a tag name never holds one (tag-names.ts drops it)
 * while a query may (`subject:"a=b"=Tag`). Throws an Error whose message says what is wrong.
 */
export function parseTagRule(text: string): TagRule {
  const at = text.lastIndexOf('=');
  if (at <= 0) throw new Error(`"${text}" is not QUERY=TAG (e.g. 'from:billing@shop.test=Billing')`);
  const tag = cleanTag(text.slice(at + 1));
  if (tag === null) throw new Error(`"${text}": the tag after the last = is empty or longer than 100 characters (letters, digits, space, - _ . @)`);
  const queryText = text.slice(0, at).trim();
  let query: SearchQuery;
  try {
    query = parseSearchQuery(queryText);
  } catch (err) {
    throw new Error(`"${text}": ${(err as Error).message}`);
  }
  if (query.terms.length === 0) throw new Error(`"${text}": the query before the last = is empty (it would tag every message)`);
  return { text, query, tag, matches: compileMatcher(query) };
}

/** What a source reads of a message: the same at intake (a new message) and on demand (a stored one). */
export interface TaggableMessage {
  readonly summary: MessageSummary;
  readonly headers: readonly Header[];
  readonly envelope: Envelope;
}

export interface IntakeTags {
  /** Decided now: cleaned, unique without regard to case, in the order found. */
  readonly tags: string[];
  /** Rules with terms only the store can answer: ask it once the message is committed. */
  readonly undecided: readonly TagRule[];
}

export function tagsOf(sources: TagSources, message: TaggableMessage): IntakeTags {
  const names: string[] = [];
  if (sources.header) {
    for (const header of message.headers) if (header.name.toLowerCase() === 'x-tags') names.push(...header.value.split(','));
  }
  if (sources.plus) names.push(...plusTags(message));
  if (sources.smtpUser && message.envelope.user) names.push(message.envelope.user);
  const undecided: TagRule[] = [];
  if (sources.rules.length > 0) {
    const view = matchView(message.summary);
    for (const rule of sources.rules) {
      const result = rule.matches(view);
      if (result === 'match') names.push(rule.tag);
      else if (result === 'undecided') undecided.push(rule);
    }
  }
  return { tags: cleanTags(names), undecided };
}

/** `+a+b` of `user+a+b@domain`, from every envelope recipient and every From/To/Cc address. */
function plusTags(message: TaggableMessage): string[] {
  const { summary, envelope } = message;
  const addresses = [...envelope.rcptTo, ...[summary.from, ...summary.to, ...summary.cc].filter((a): a is Address => a !== null).map((a) => a.address)];
  const tags: string[] = [];
  for (const address of addresses) {
    const at = address.lastIndexOf('@');
    const local = at < 0 ? address : address.slice(0, at);
    tags.push(...local.split('+').slice(1));
  }
  return tags;
}
