/**
 * A login's mailboxes as IMAP folders (issue 21): FolderSource of ./folder-types.ts over the store
 * (reads: the folder index, flags, raw bytes, search) and the mailbox service (every change, so
 * it is announced like an API one). Which mailboxes a login sees is a policy the composition root
 * passes in (`loginFolders`), so that a grant file can narrow it later without touching this file.
 */
import type { Logger } from 'pino';
import type { AppendMessage } from '../append.js';
import { KotakError } from '../errors.js';
import { ALL_MAILBOXES, inScope, onlyMailboxes, type MailboxScope } from '../mail/mailbox-scope.js';
import type { SearchQuery } from '../mail/search-query.js';
import type { MailboxRouting } from '../mailbox/routing.js';
import type { MailboxService } from '../mailbox/service.js';
import type { FolderEntry, MessageStore } from '../store/types.js';
import type { FlagSet, Folder, FolderAccess, FolderClient, FolderMessage, FolderSource, FolderStatus, MessageFlags } from './folder-types.js';

/** Which mailboxes a login sees as folders. */
export interface FolderPolicy {
  /** The mailbox behind the login's INBOX, or null when it has none (refused as `no_maildrop`). */
  inbox(user: string): string | null;
  /** Every mailbox the login may see (its INBOX's among them). */
  visible(user: string, inbox: string): MailboxScope;
}

/**
 * The policy of the command line: INBOX is the mailbox the login reads (`routing.readerMailbox`:
 * its own with --mailbox-by-smtp-user, else `default`); with `ownMailboxOnly` (that same flag) a
 * login sees only it, one credential per inbox as POP3; otherwise it sees every mailbox.
 */
export function loginFolders(routing: Pick<MailboxRouting, 'readerMailbox'>, ownMailboxOnly: boolean): FolderPolicy {
  return {
    inbox: (user) => routing.readerMailbox(user),
    visible: (_user, inbox) => (ownMailboxOnly ? onlyMailboxes([inbox]) : ALL_MAILBOXES),
  };
}

export interface FolderSourceOptions {
  /** Ids per store read when a search or copy is given many (each id is one SQL parameter). */
  readonly idSlice?: number;
}

export interface FolderSourceDeps {
  readonly store: MessageStore;
  readonly mailboxes: MailboxService;
  /** The intake of appended and copied messages (src/append.ts). */
  readonly append: AppendMessage;
  readonly policy: FolderPolicy;
  readonly log: Logger;
}

/** The IMAP name of the inbox; any case denotes it (RFC 3501 section 5.1). */
const INBOX = 'INBOX';
/** A search over a whole folder reads at most this many matches (more than any folder window). */
const WHOLE_FOLDER = 2 ** 31 - 1;

const flagsOf = (entry: FolderEntry): MessageFlags => ({ seen: entry.read, flagged: entry.flagged, deleted: entry.deleted, keywords: entry.tags });

const messageOf = (entry: FolderEntry): FolderMessage => ({ id: entry.id, uid: entry.seq, size: entry.size, receivedAt: entry.receivedAt, flags: flagsOf(entry) });

export function createFolderSource(options: FolderSourceOptions, deps: FolderSourceDeps): FolderSource {
  const { store, mailboxes, append, policy, log } = deps;
  const idSlice = options.idSlice ?? 5000;

  function slices<T>(items: readonly T[]): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += idSlice) out.push(items.slice(i, i + idSlice));
    return out;
  }

  return {
    async open(user, client?: FolderClient) {
      const inboxMailbox = policy.inbox(user);
      if (inboxMailbox === null) {
        throw new KotakError('no_maildrop', 'this user name is not a mailbox name (a-z, 0-9, then also . _ -, at most 64), so it has no mailbox to read');
      }
      const visible = policy.visible(user, inboxMailbox);
      const inbox: Folder = { name: INBOX, mailbox: inboxMailbox };
      const uidValidity = await store.uidValidity();
      const from = { user, address: client?.address ?? '', tls: client?.tls ?? false };
      // Each folder is one mailbox; what lies outside the login's mailboxes is never reached.
      const scopeOf = (folder: Folder): MailboxScope =>
        onlyMailboxes(folder.mailbox === inboxMailbox || inScope(visible, folder.mailbox) ? [folder.mailbox] : []);

      const folders = async (): Promise<Folder[]> => {
        const others = (await mailboxes.listMailboxes(visible)).map((m) => m.name).filter((name) => name !== inboxMailbox);
        return [inbox, ...others.map((name) => ({ name, mailbox: name }))];
      };

      const entryOf = async (scope: MailboxScope, id: string): Promise<FolderEntry> => {
        const entry = (await store.flagsOf(scope, [id])).get(id);
        if (!entry) throw new KotakError('storage_failed', `message ${id} was deleted before it could be listed`);
        return entry;
      };

      /** Stores a message into a folder, with flags and keywords (the keywords are tags, set once it is stored). */
      const storeInto = async (folder: Folder, raw: Buffer, flags: FlagSet, receivedAt: number | null, rule: 'imap-append' | 'imap-copy'): Promise<FolderEntry> => {
        const scope = scopeOf(folder);
        if (scope.kind === 'only' && scope.mailboxes.length === 0) throw new KotakError('mailbox_not_allowed', 'this login may not see that folder');
        const summary = await append({
          mailbox: folder.mailbox,
          rule,
          raw,
          flags: { read: flags.seen === true, flagged: flags.flagged === true, deleted: flags.deleted === true },
          receivedAt,
          client: from,
        });
        if (flags.keywords && flags.keywords.length > 0) await mailboxes.changeTags(scope, [summary.id], flags.keywords, []);
        return entryOf(scope, summary.id);
      };

      const access: FolderAccess = {
        user,
        uidValidity,
        folders,

        async resolve(name) {
          if (name.toUpperCase() === INBOX) return inbox;
          return (await folders()).find((folder) => folder !== inbox && folder.name === name) ?? null;
        },

        async messages(folder, { afterUid, limit }) {
          return (await store.folderIndex(scopeOf(folder), folder.mailbox, { afterSeq: afterUid, limit })).map(messageOf);
        },

        async flagsOf(folder, ids) {
          const entries = await store.flagsOf(scopeOf(folder), ids);
          return new Map([...entries].map(([id, entry]) => [id, flagsOf(entry)]));
        },

        async status(folder, limit): Promise<FolderStatus> {
          const scope = scopeOf(folder);
          const uidNext = (await store.highestSeq()) + 1;
          const counts = (await mailboxes.listMailboxes(scope)).find((m) => m.name === folder.mailbox) ?? { total: 0, unread: 0, size: 0 };
          // The kept counts answer when the whole folder fits the window; otherwise the window's
          // entries are counted (the index, no message is read).
          if (counts.total <= limit) return { messages: counts.total, unseen: counts.unread, uidNext, size: counts.size };
          const window = await store.folderIndex(scope, folder.mailbox, { limit });
          return {
            messages: window.length,
            unseen: window.filter((entry) => !entry.read).length,
            uidNext,
            size: window.reduce((sum, entry) => sum + entry.size, 0),
          };
        },

        async search(folder, query: SearchQuery, within) {
          const scope = scopeOf(folder);
          const found = new Set<string>();
          if (within === null) {
            for (const summary of await store.find(scope, { query, limit: WHOLE_FOLDER })) found.add(summary.id);
            return found;
          }
          for (const chunk of slices([...new Set(within)])) {
            for (const summary of await store.find(scope, { query, ids: chunk, limit: chunk.length })) found.add(summary.id);
          }
          return found;
        },

        read(folder, id) {
          return store.getRaw(scopeOf(folder), id);
        },

        async setFlags(folder, ids, change) {
          const entries = await mailboxes.setFlags(scopeOf(folder), ids, change);
          return new Map([...entries].map(([id, entry]) => [id, flagsOf(entry)]));
        },

        expunge(folder, ids) {
          return mailboxes.deleteByIds(scopeOf(folder), ids);
        },

        async append(folder, raw, flags, internalDate) {
          return messageOf(await storeInto(folder, raw, flags, internalDate, 'imap-append'));
        },

        async copy(source, ids, target) {
          const sourceScope = scopeOf(source);
          const copies = new Map<string, FolderMessage>();
          const entries = new Map<string, FolderEntry>();
          for (const chunk of slices([...new Set(ids)])) for (const [id, entry] of await store.flagsOf(sourceScope, chunk)) entries.set(id, entry);
          // One at a time, oldest first: the copies' UIDs keep the originals' order (COPYUID pairs them).
          for (const entry of [...entries.values()].sort((a, b) => a.seq - b.seq)) {
            const raw = await store.getRaw(sourceScope, entry.id);
            if (!raw) continue; // deleted meanwhile: nothing to copy
            // Flags and the received time go with the copy (RFC 3501 section 6.4.7).
            const copy = await storeInto(target, raw, { seen: entry.read, flagged: entry.flagged, deleted: entry.deleted, keywords: entry.tags }, entry.receivedAt, 'imap-copy');
            copies.set(entry.id, messageOf(copy));
          }
          if (copies.size < entries.size) log.debug({ asked: entries.size, copied: copies.size }, 'some messages were deleted before they could be copied');
          return copies;
        },
      };
      return access;
    },
  };
}
