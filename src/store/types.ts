/**
 * The storage contract. Implementations persist and answer; they never announce (see events.ts):
 * writes that others must hear of go through the mailbox service (src/mailbox/service.ts).
 *
 * Every read and write of messages takes the caller's scope first (mail/mailbox-scope.ts): what
 * lies outside it is treated as absent (not found, not counted, not deleted).
 */
import type { MailboxScope } from '../mail/mailbox-scope.js';
import type { SearchQuery } from '../mail/search-query.js';
import type { Address, MessageDetail, MessageSummary, NewMessage } from '../mail/types.js';

export interface ListOptions {
  readonly query: SearchQuery;
  readonly limit: number;
  /** From a previous page's nextCursor: the page of messages older than it. */
  readonly cursor?: string | null;
  /** From a previous page's prevCursor: the page of messages just newer than it. '0' gives the oldest page. */
  readonly after?: string | null;
  /**
   * Skip this many matching messages first (from the newest, or from the cursor), so a list that
   * scrolls can jump into the middle of a long result. Not with `after`.
   */
  readonly start?: number;
  /**
   * Count a search's matches only up to SEARCH_TOTAL_BOUND (sqlite.ts) past the end of this page,
   * so that a common word costs a page, not a million rows; `totalIsLowerBound` then says when
   * there are more. Without search terms the total is exact either way (it is kept, not counted).
   */
  readonly boundedTotal?: boolean;
}

export interface MessagePage {
  /** How many messages match the query in all, or at least (`totalIsLowerBound`). */
  readonly total: number;
  /** True when the count stopped at its bound (`boundedTotal`): more than `total` match. */
  readonly totalIsLowerBound: boolean;
  readonly messages: MessageSummary[];
  /** Pass back as `cursor` for the next, older page; null on the last page. */
  readonly nextCursor: string | null;
  /** Pass back as `after` for the previous, newer page; null on the first page. */
  readonly prevCursor: string | null;
}

export interface FindOptions {
  readonly query: SearchQuery;
  /** Only messages received at or after this time (epoch ms). */
  readonly since?: number | null;
  /** Only among these message ids. */
  readonly ids?: readonly string[] | null;
  readonly limit: number;
}

export interface StoreStats {
  readonly total: number;
  readonly unread: number;
  /** Raw bytes of all stored messages. */
  readonly size: number;
}

/** One mailbox's kept counts (GET /api/mailboxes). */
export interface MailboxCount {
  readonly name: string;
  readonly total: number;
  readonly unread: number;
  /** Raw bytes of its messages. */
  readonly size: number;
}

export interface PruneLimits {
  /** Keep at most this many messages (the newest). */
  readonly maxMessages?: number | null;
  /** Delete messages received before this time (epoch ms). */
  readonly receivedBefore?: number | null;
}

/** A deleted message and the mailbox it was in (whose listeners hear of it). */
export interface RemovedMessage {
  readonly id: string;
  readonly mailbox: string;
}

export interface MessageStore {
  /** Resolves once the message is committed durably (group-committed with its neighbours). Its mailbox is `message.mailbox`. */
  insert(message: NewMessage): Promise<MessageSummary>;
  list(scope: MailboxScope, options: ListOptions): Promise<MessagePage>;
  /** Matching messages, oldest first (for waiters). */
  find(scope: MailboxScope, options: FindOptions): Promise<MessageSummary[]>;
  get(scope: MailboxScope, id: string): Promise<MessageDetail | null>;
  getRaw(scope: MailboxScope, id: string): Promise<Buffer | null>;
  /** Returns the updated summary, or null when there is no such message. */
  setRead(scope: MailboxScope, id: string, read: boolean): Promise<MessageSummary | null>;
  /** Marks every message matching the query; returns how many changed, by mailbox (none listed when none changed). */
  setReadMatching(scope: MailboxScope, query: SearchQuery, read: boolean): Promise<ReadonlyMap<string, number>>;
  delete(scope: MailboxScope, id: string): Promise<boolean>;
  /** Deletes every message matching the query; returns them, oldest first. */
  deleteMatching(scope: MailboxScope, query: SearchQuery): Promise<RemovedMessage[]>;
  /** Deletes everything in scope; returns how many. */
  clear(scope: MailboxScope): Promise<number>;
  /** Applies retention limits within the scope (maxMessages counts the scope's messages); returns the messages deleted. */
  prune(scope: MailboxScope, limits: PruneLimits): Promise<RemovedMessage[]>;
  stats(scope: MailboxScope): Promise<StoreStats>;
  /** Every mailbox that has held messages since its counts began (emptied ones with zeros), by name; kept counts, not a scan. */
  mailboxCounts(scope: MailboxScope): Promise<MailboxCount[]>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Offset paging and tags, for Mailpit's API (src/compat/mailpit).
  /** A page by offset, newest first, with the counts of what matches. */
  listAt(scope: MailboxScope, options: OffsetListOptions): Promise<OffsetPage>;
  /** What a summary leaves out, for each of these messages that exists (missing ids are absent). */
  summaryExtras(ids: readonly string[]): Promise<Map<string, SummaryExtras>>;
  /** Replaces the tags of these messages (an empty list clears them); returns the ids that exist. */
  setTags(ids: readonly string[], tags: readonly string[]): Promise<string[]>;
  /**
   * Adds tags to and removes tags from these messages, each keeping its other tags, in one
   * transaction (a tag both added and removed is removed); returns the ids whose tags changed.
   */
  changeTags(ids: readonly string[], add: readonly string[], remove: readonly string[]): Promise<string[]>;
  /** Every tag the scope's messages hold, with how many of them hold it, by name. */
  tagCounts(scope: MailboxScope): Promise<TagCount[]>;
  /** Renames a tag on the scope's messages (merging into an existing tag of that name); returns how many of them hold it. */
  renameTag(scope: MailboxScope, from: string, to: string): Promise<number>;
  /** Removes a tag from the scope's messages (the messages stay); returns how many held it. */
  deleteTag(scope: MailboxScope, name: string): Promise<number>;

  // IMAP folders (issue 21): a mailbox's messages by seq (the UID), and the flags IMAP stores.
  /**
   * The messages of one mailbox (none when it is outside the scope), oldest first: the newest
   * `limit` of those with a seq above `afterSeq` (of all when absent). Read from the mailbox's
   * (mailbox, seq) index and the message rows, never bodies or raw bytes.
   */
  folderIndex(scope: MailboxScope, mailbox: string, options: FolderIndexOptions): Promise<FolderEntry[]>;
  /** These messages' entries (flags, seq, size), for those that exist in scope. */
  flagsOf(scope: MailboxScope, ids: readonly string[]): Promise<Map<string, FolderEntry>>;
  /**
   * Sets read, flagged and deleted (each one only when given) on these messages, those in scope;
   * returns the messages where any of them changed, with what changed.
   */
  setFlags(scope: MailboxScope, ids: readonly string[], flags: FlagMarks): Promise<FlagsChanged[]>;
  /** IMAP's UIDVALIDITY: one number (1..2^31-1) chosen when the database was made, the same after every restart. */
  uidValidity(): Promise<number>;
  /** The highest seq ever given to a message of this database (0 for none); seqs are never given twice. */
  highestSeq(): Promise<number>;
}

export interface FolderIndexOptions {
  /** Only messages with a higher seq. */
  readonly afterSeq?: number;
  /** At most this many, the newest. */
  readonly limit: number;
}

/** A message as an IMAP folder lists it: no bodies, no addresses. */
export interface FolderEntry {
  readonly id: string;
  readonly mailbox: string;
  /** Strictly increasing in insert order, never given twice in a database (the IMAP UID). */
  readonly seq: number;
  /** Octets of the raw message as stored. */
  readonly size: number;
  /** Epoch ms. */
  readonly receivedAt: number;
  readonly read: boolean;
  readonly flagged: boolean;
  readonly deleted: boolean;
  /** Sorted by name. */
  readonly tags: readonly string[];
}

/** The stored flags to set; an absent one is left as it is. */
export interface FlagMarks {
  readonly read?: boolean;
  readonly flagged?: boolean;
  readonly deleted?: boolean;
}

export interface FlagsChanged {
  readonly id: string;
  readonly mailbox: string;
  /** The read state now, when it changed; null when it did not. */
  readonly read: boolean | null;
  /** Whether flagged or deleted changed. */
  readonly marks: boolean;
}

export interface OffsetListOptions {
  readonly query: SearchQuery;
  /** How many of the newest matching messages to skip. */
  readonly start: number;
  readonly limit: number;
}

export interface OffsetPage {
  /** How many messages match the query in all. */
  readonly total: number;
  /** How many of those are unread. */
  readonly unread: number;
  readonly messages: MessageSummary[];
}

export interface SummaryExtras {
  /** Sorted by name. */
  readonly tags: readonly string[];
  readonly replyTo: readonly Address[];
  /** Attachments that are not inline. */
  readonly attachments: number;
  readonly inline: number;
  /** The authenticated SMTP username, or null. */
  readonly user: string | null;
}

export interface TagCount {
  readonly name: string;
  readonly count: number;
}
