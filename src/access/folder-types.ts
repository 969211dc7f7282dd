import type { SearchQuery } from '../mail/search-query.js';

/**
 * A mail client's view of the mailboxes a login may see, as IMAP folders (issue 21). Protocol
 * neutral in what it returns (no sequence numbers, no wire format): the IMAP session keeps its
 * own numbering and turns these into responses. Implemented by access/folders.ts over the store
 * interface (reads) and the mailbox service (every change, so it is announced like an API one).
 */

/** A message as a folder lists it. */
export interface FolderMessage {
  /** Kotak's message id. */
  readonly id: string;
  /** The store's `seq`: strictly increasing within a folder and never reused (IMAP UID). */
  readonly uid: number;
  /** Octets of the raw message as stored (RFC822.SIZE; BODY[] is these bytes exactly). */
  readonly size: number;
  /** When Kotak received it, epoch ms (INTERNALDATE). */
  readonly receivedAt: number;
  readonly flags: MessageFlags;
}

export interface MessageFlags {
  /** Kotak's read state. */
  readonly seen: boolean;
  readonly flagged: boolean;
  /** Marked for expunge; stored, so another session sees it too. */
  readonly deleted: boolean;
  /** Kotak's tags, as stored (IMAP keywords). */
  readonly keywords: readonly string[];
}

/** One folder: INBOX is the login's own mailbox; every other mailbox it may see is a folder named as the mailbox. */
export interface Folder {
  /** The IMAP name: `INBOX`, or the mailbox name. */
  readonly name: string;
  /** Kotak's mailbox behind it. */
  readonly mailbox: string;
}

export interface FolderStatus {
  readonly messages: number;
  readonly unseen: number;
  /** A UID greater than every UID the folder has held (the next one may be larger still). */
  readonly uidNext: number;
  readonly size: number;
}

/** A flag change: `add` and `remove` (STORE +FLAGS / -FLAGS) or `replace` (STORE FLAGS). */
export type FlagChange =
  | { readonly kind: 'add' | 'remove'; readonly flags: FlagSet }
  | { readonly kind: 'replace'; readonly flags: FlagSet };

export interface FlagSet {
  readonly seen?: boolean;
  readonly flagged?: boolean;
  readonly deleted?: boolean;
  readonly keywords?: readonly string[];
}

export interface FolderAccess {
  readonly user: string;
  /** UIDVALIDITY: one value per database, stable across restarts (UIDs are never reused within it). */
  readonly uidValidity: number;
  /** INBOX first, then the other mailboxes by name. */
  folders(): Promise<Folder[]>;
  /** The folder an IMAP name denotes (`INBOX` in any case), or null when the login has none by that name. */
  resolve(name: string): Promise<Folder | null>;
  /**
   * The folder's messages, oldest first: those with a UID above `afterUid`, else the newest
   * `limit` (the folder's window; older mail is outside what a client sees). With `afterUid` too,
   * at most `limit` of them, the newest.
   */
  messages(folder: Folder, options: { readonly afterUid?: number; readonly limit: number }): Promise<FolderMessage[]>;
  /** The current flags of these messages (absent: deleted meanwhile). */
  flagsOf(folder: Folder, ids: readonly string[]): Promise<Map<string, MessageFlags>>;
  status(folder: Folder, limit: number): Promise<FolderStatus>;
  /**
   * The ids among `within` (all of the folder when null) that match a query in Kotak's search
   * language, answered by the store's search (never by loading messages).
   */
  search(folder: Folder, query: SearchQuery, within: readonly string[] | null): Promise<Set<string>>;
  /** The raw message as stored, or null when it was deleted. */
  read(folder: Folder, id: string): Promise<Buffer | null>;
  /** Changes flags (announced through the mailbox service); returns the flags as stored of those that exist. */
  setFlags(folder: Folder, ids: readonly string[], change: FlagChange): Promise<Map<string, MessageFlags>>;
  /** Deletes these messages through the mailbox service; returns those that existed. */
  expunge(folder: Folder, ids: readonly string[]): Promise<string[]>;
  /** Stores a message into the folder through Kotak's intake (route rule `imap-append`). */
  append(folder: Folder, raw: Buffer, flags: FlagSet, internalDate: number | null): Promise<FolderMessage>;
  /** Copies messages into another folder (new ids, new UIDs, same raw bytes and flags); old id → the copy. */
  copy(from: Folder, ids: readonly string[], to: Folder): Promise<Map<string, FolderMessage>>;
}

/** Where a session comes from: recorded in the envelope of the messages it appends. */
export interface FolderClient {
  readonly address: string;
  readonly tls: boolean;
}

export interface FolderSource {
  /**
   * The folders of an authenticated login; rejects with KotakError `no_maildrop` when it has no
   * mailbox. `client`: where the session comes from (absent: unknown, recorded as '' and no TLS).
   */
  open(user: string, client?: FolderClient): Promise<FolderAccess>;
}
