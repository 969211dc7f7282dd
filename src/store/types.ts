/** The storage contract. Implementations persist and answer; they never announce (see events.ts). */
import type { SearchQuery } from '../mail/search-query.js';
import type { Address, MessageDetail, MessageSummary, NewMessage } from '../mail/types.js';

export interface ListOptions {
  readonly query: SearchQuery;
  readonly limit: number;
  /** From a previous page's nextCursor: the page of messages older than it. */
  readonly cursor?: string | null;
  /** From a previous page's prevCursor: the page of messages just newer than it. '0' gives the oldest page. */
  readonly after?: string | null;
}

export interface MessagePage {
  /** How many messages match the query in all. */
  readonly total: number;
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

export interface PruneLimits {
  /** Keep at most this many messages (the newest). */
  readonly maxMessages?: number | null;
  /** Delete messages received before this time (epoch ms). */
  readonly receivedBefore?: number | null;
}

export interface MessageStore {
  /** Resolves once the message is committed durably (group-committed with its neighbours). */
  insert(message: NewMessage): Promise<MessageSummary>;
  list(options: ListOptions): Promise<MessagePage>;
  /** Matching messages, oldest first (for waiters). */
  find(options: FindOptions): Promise<MessageSummary[]>;
  get(id: string): Promise<MessageDetail | null>;
  getRaw(id: string): Promise<Buffer | null>;
  /** Returns the updated summary, or null when there is no such message. */
  setRead(id: string, read: boolean): Promise<MessageSummary | null>;
  /** Marks every message matching the query; returns how many changed. */
  setReadMatching(query: SearchQuery, read: boolean): Promise<number>;
  delete(id: string): Promise<boolean>;
  /** Deletes every message matching the query; returns their ids. */
  deleteMatching(query: SearchQuery): Promise<string[]>;
  /** Deletes everything; returns how many. */
  clear(): Promise<number>;
  /** Applies retention limits; returns the ids deleted. */
  prune(limits: PruneLimits): Promise<string[]>;
  stats(): Promise<StoreStats>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Offset paging and tags, for Mailpit's API (src/compat/mailpit).
  /** A page by offset, newest first, with the counts of what matches. */
  listAt(options: OffsetListOptions): Promise<OffsetPage>;
  /** What a summary leaves out, for each of these messages that exists (missing ids are absent). */
  summaryExtras(ids: readonly string[]): Promise<Map<string, SummaryExtras>>;
  /** Replaces the tags of these messages (an empty list clears them); returns the ids that exist. */
  setTags(ids: readonly string[], tags: readonly string[]): Promise<string[]>;
  /** Every tag in use with how many messages hold it, by name. */
  tagCounts(): Promise<TagCount[]>;
  /** Renames a tag everywhere (merging into an existing tag of that name); returns how many messages hold it. */
  renameTag(from: string, to: string): Promise<number>;
  /** Removes a tag from every message (the messages stay); returns how many held it. */
  deleteTag(name: string): Promise<number>;
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
