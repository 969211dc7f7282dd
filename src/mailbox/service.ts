/**
 * The mailbox service: every change to stored messages that others must hear of goes through
 * here. Each method writes through the store, then (after the commit) emits the one bus event
 * that describes the change, and nothing when nothing changed. Storage announces nothing, and
 * no route or protocol emits message events itself, so the web inbox, waiters, the Mailpit
 * events and the live hub see the same frames whoever made the change (API, Mailpit, MailHog,
 * POP3, retention, SMTP ingest).
 *
 * Every method takes the caller's scope first: the mailboxes it may see and change. What lies
 * outside is treated as absent.
 */
import { KotakError } from '../errors.js';
import type { EventBus } from '../events.js';
import { inScope, onlyMailboxes, type MailboxScope } from '../mail/mailbox-scope.js';
import { EMPTY_QUERY, type SearchQuery } from '../mail/search-query.js';
import { DEFAULT_MAILBOX, type MessageSummary, type NewMessage } from '../mail/types.js';
import type { FlagChange } from '../access/folder-types.js';
import type { FlagMarks, FolderEntry, FlagsChanged, MailboxCount, MessageStore, PruneLimits, RemovedMessage } from '../store/types.js';

export interface MailboxServiceDeps {
  readonly store: MessageStore;
  readonly bus: EventBus;
  /** Mailboxes that exist even when empty: `default` and those named by routing rules. */
  readonly configuredMailboxes?: readonly string[];
  /**
   * Webhook endpoints subscribed to `message:stored` (issue 22): set as `webhookEndpoints` on every
   * message stored here, so the store writes their outbox rows in the insert's transaction and the
   * 250 implies the webhook will be sent. Absent or empty: none.
   */
  readonly webhookEndpointsForStored?: readonly string[];
}

export interface MailboxService {
  /** Commits a new message, then announces it ('message:stored'). Its mailbox must be in scope. */
  store(scope: MailboxScope, message: NewMessage): Promise<MessageSummary>;
  /**
   * Commits the copies of one message (one per mailbox it was routed to), queued together so the
   * group commit normally writes them in one transaction; announces each. When any copy fails the
   * stored ones are still announced and the call throws (the sender is told to try again).
   */
  storeCopies(scope: MailboxScope, copies: readonly NewMessage[]): Promise<MessageSummary[]>;
  /** The mailboxes in scope that hold messages or are configured, with kept counts, by name. */
  listMailboxes(scope: MailboxScope): Promise<MailboxCount[]>;
  /** Deletes every message of one mailbox; announces and returns their ids; null when no such mailbox exists in scope. */
  deleteMailbox(scope: MailboxScope, name: string): Promise<string[] | null>;
  /** Deletes these messages; announces (one 'message:deleted' per mailbox) those that existed, which it returns. */
  deleteByIds(scope: MailboxScope, ids: readonly string[]): Promise<string[]>;
  /** Deletes the messages matching the query; announces and returns their ids. */
  deleteMatching(scope: MailboxScope, query: SearchQuery): Promise<string[]>;
  /**
   * Deletes every message in scope; returns how many. The whole store announces 'messages:cleared'
   * (always: listeners reset their view); a scope of some mailboxes announces 'message:deleted'.
   */
  clear(scope: MailboxScope): Promise<number>;
  /** Marks one message read or unread; announces it; returns the updated summary, or null when there is no such message. */
  markRead(scope: MailboxScope, id: string, read: boolean): Promise<MessageSummary | null>;
  /** Marks every message matching the query; announces 'messages:updated' per mailbox where any changed; returns how many. */
  markReadMatching(scope: MailboxScope, query: SearchQuery, read: boolean): Promise<number>;
  /** Applies retention limits within the scope; announces and returns the ids deleted. */
  prune(scope: MailboxScope, limits: PruneLimits): Promise<string[]>;
  /**
   * Replaces the tags of these messages (ids outside the scope are left out); announces
   * 'tags:changed' with each changed message's tags as stored; returns the ids changed.
   */
  setTags(scope: MailboxScope, ids: readonly string[], tags: readonly string[]): Promise<string[]>;
  /**
   * Adds and removes tags on these messages, each keeping its other tags (ids outside the scope are
   * left out); announces 'tags:changed' as setTags does; returns the ids changed.
   */
  changeTags(scope: MailboxScope, ids: readonly string[], add: readonly string[], remove: readonly string[]): Promise<string[]>;
  /** Renames a tag on the scope's messages; announces a bulk 'tags:changed' when any held it; returns how many did. */
  renameTag(scope: MailboxScope, from: string, to: string): Promise<number>;
  /** Removes a tag from the scope's messages; announces a bulk 'tags:changed' when any held it; returns how many did. */
  deleteTag(scope: MailboxScope, name: string): Promise<number>;
  /**
   * Applies an IMAP flag change (STORE) to these messages, those in scope: \Seen is the read state
   * ('message:updated' per message, or 'messages:updated' per mailbox past READ_FRAMES_MAX of
   * them), keywords are tags ('tags:changed'), \Flagged and \Deleted are stored flags
   * ('message:flags' per mailbox). Announces only what changed; returns every one's entry as stored after.
   */
  setFlags(scope: MailboxScope, ids: readonly string[], change: FlagChange): Promise<Map<string, FolderEntry>>;
}

/**
 * Read changes of more messages than this in one mailbox are announced as one 'messages:updated'
 * (listeners refetch), as a bulk "mark read" is, rather than a frame per message.
 */
export const READ_FRAMES_MAX = 1000;

/** The stored flags a change sets; keywords are tags, handled apart. */
export function flagMarksOf(change: FlagChange): FlagMarks {
  const { seen, flagged, deleted } = change.flags;
  if (change.kind === 'replace') return { read: seen === true, flagged: flagged === true, deleted: deleted === true };
  const to = change.kind === 'add';
  return { ...(seen ? { read: to } : {}), ...(flagged ? { flagged: to } : {}), ...(deleted ? { deleted: to } : {}) };
}

/** Ids per lookup of their mailboxes: well under SQLite's limit of bound parameters. */
const ID_SLICE = 500;

/** A write into a mailbox the caller may not see is a caller's error, never a silent no-op. */
function requireInScope(scope: MailboxScope, mailbox: string): void {
  if (!inScope(scope, mailbox)) throw new KotakError('invalid_request', `mailbox "${mailbox}" is outside this caller's mailboxes`);
}

export function createMailboxService(deps: MailboxServiceDeps): MailboxService {
  const { store, bus } = deps;
  const configured = new Set([DEFAULT_MAILBOX, ...(deps.configuredMailboxes ?? [])]);
  const webhookEndpoints = deps.webhookEndpointsForStored ?? [];
  /** The message as the store is to write it: with its webhook deliveries when any endpoint listens. */
  const withWebhooks = (message: NewMessage): NewMessage => (webhookEndpoints.length === 0 ? message : { ...message, webhookEndpoints });

  const listMailboxes = async (scope: MailboxScope): Promise<MailboxCount[]> => {
    const counted = (await store.mailboxCounts(scope)).filter((m) => m.total > 0 || configured.has(m.name));
    const named = new Set(counted.map((m) => m.name));
    const empty = [...configured].filter((name) => !named.has(name) && inScope(scope, name)).map((name) => ({ name, total: 0, unread: 0, size: 0 }));
    return [...counted, ...empty].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  /** One 'message:deleted' per mailbox, so that a listener of some mailboxes hears only of theirs. */
  const announceDeleted = (removed: readonly RemovedMessage[]): void => {
    const byMailbox = new Map<string, string[]>();
    for (const { id, mailbox } of removed) {
      const ids = byMailbox.get(mailbox);
      if (ids) ids.push(id);
      else byMailbox.set(mailbox, [id]);
    }
    for (const [mailbox, ids] of byMailbox) bus.emit('message:deleted', { mailbox, ids });
  };
  const idsOf = (removed: readonly RemovedMessage[]): string[] => removed.map((m) => m.id);

  /** Read changes as the API announces them, the stored flags as 'message:flags', each per mailbox. */
  const announceFlags = (changed: readonly FlagsChanged[]): void => {
    const readBy = new Map<string, { id: string; read: boolean }[]>();
    const marksBy = new Map<string, string[]>();
    for (const { id, mailbox, read, marks } of changed) {
      if (read !== null) (readBy.get(mailbox) ?? readBy.set(mailbox, []).get(mailbox)!).push({ id, read });
      if (marks) (marksBy.get(mailbox) ?? marksBy.set(mailbox, []).get(mailbox)!).push(id);
    }
    for (const [mailbox, reads] of readBy) {
      if (reads.length <= READ_FRAMES_MAX) {
        for (const { id, read } of reads) bus.emit('message:updated', { id, mailbox, read });
        continue;
      }
      // One change sets one read state: all of them changed to the same one.
      bus.emit('messages:updated', { mailbox, read: reads[0]!.read, count: reads.length });
    }
    for (const [mailbox, changedIds] of marksBy) bus.emit('message:flags', { mailbox, ids: changedIds });
  };

  /**
   * A tag change on the messages of `ids` the scope may see: read first, in scope, so that what the
   * caller may not see stays untouched and each change's frame names its mailbox (reaching only
   * those who may see it); then the change, then the tags as stored, announced.
   */
  const retag = async (scope: MailboxScope, ids: readonly string[], change: (visibleIds: string[]) => Promise<string[]>): Promise<string[]> => {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const visible = new Map((await store.find(scope, { query: EMPTY_QUERY, ids: unique, limit: unique.length })).map((m) => [m.id, m.mailbox]));
    if (visible.size === 0) return [];
    const changed = (await change([...visible.keys()])).filter((id) => visible.has(id));
    if (changed.length > 0) {
      // Read back: a tag that already exists keeps its first spelling.
      const extras = await store.summaryExtras(changed);
      bus.emit('tags:changed', { kind: 'set', messages: changed.map((id) => ({ id, mailbox: visible.get(id)!, tags: extras.get(id)?.tags ?? [] })) });
    }
    return changed;
  };

  return {
    async store(scope, message) {
      requireInScope(scope, message.mailbox);
      const summary = await store.insert(withWebhooks(message));
      bus.emit('message:stored', summary);
      return summary;
    },

    async storeCopies(scope, copies) {
      for (const copy of copies) requireInScope(scope, copy.mailbox);
      // Every insert is queued before any is awaited: they join the same group commit.
      const outcomes = await Promise.allSettled(copies.map((copy) => store.insert(withWebhooks(copy))));
      const stored: MessageSummary[] = [];
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') {
          stored.push(outcome.value);
          bus.emit('message:stored', outcome.value);
        }
      }
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      return stored;
    },

    listMailboxes,

    async deleteMailbox(scope, name) {
      if (!inScope(scope, name)) return null;
      const removed = await store.deleteMatching(onlyMailboxes([name]), EMPTY_QUERY);
      // A mailbox exists while it holds messages or is configured: nothing removed from one that
      // is not configured means there was no such mailbox.
      if (removed.length === 0 && !configured.has(name)) return null;
      announceDeleted(removed);
      return idsOf(removed);
    },

    async deleteByIds(scope, ids) {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return [];
      // Which mailbox each is in, for the frames (a message never changes mailbox); read in slices, as
      // each id is one SQL parameter. An id absent here is not deleted below either (ids are never reused).
      const mailboxOf = new Map<string, string>();
      for (let i = 0; i < unique.length; i += ID_SLICE) {
        const slice = unique.slice(i, i + ID_SLICE);
        for (const m of await store.find(scope, { query: EMPTY_QUERY, ids: slice, limit: slice.length })) mailboxOf.set(m.id, m.mailbox);
      }
      const deleted: RemovedMessage[] = [];
      try {
        for (const id of unique) {
          const mailbox = mailboxOf.get(id);
          if (mailbox !== undefined && (await store.delete(scope, id))) deleted.push({ id, mailbox });
        }
      } finally {
        // Even when a later delete fails, the ones already committed are gone and must be announced.
        announceDeleted(deleted);
      }
      return idsOf(deleted);
    },

    async deleteMatching(scope, query) {
      const removed = await store.deleteMatching(scope, query);
      announceDeleted(removed);
      return idsOf(removed);
    },

    async clear(scope) {
      if (scope.kind === 'only') {
        // 'messages:cleared' tells every listener that the whole store is empty; emptying some
        // mailboxes is announced as the deletion of their messages.
        const removed = await store.deleteMatching(scope, EMPTY_QUERY);
        announceDeleted(removed);
        return removed.length;
      }
      const deleted = await store.clear(scope);
      bus.emit('messages:cleared', {});
      return deleted;
    },

    async markRead(scope, id, read) {
      const summary = await store.setRead(scope, id, read);
      if (summary) bus.emit('message:updated', { id, mailbox: summary.mailbox, read });
      return summary;
    },

    async markReadMatching(scope, query, read) {
      const changed = await store.setReadMatching(scope, query, read);
      let total = 0;
      for (const [mailbox, count] of changed) {
        bus.emit('messages:updated', { mailbox, read, count });
        total += count;
      }
      return total;
    },

    async prune(scope, limits) {
      const removed = await store.prune(scope, limits);
      announceDeleted(removed);
      return idsOf(removed);
    },

    setTags(scope, ids, tags) {
      return retag(scope, ids, (visibleIds) => store.setTags(visibleIds, tags));
    },

    changeTags(scope, ids, add, remove) {
      return retag(scope, ids, (visibleIds) => store.changeTags(visibleIds, add, remove));
    },

    async renameTag(scope, from, to) {
      const held = await store.renameTag(scope, from, to);
      if (held > 0) bus.emit('tags:changed', { kind: 'bulk', scope });
      return held;
    },

    async deleteTag(scope, name) {
      const held = await store.deleteTag(scope, name);
      if (held > 0) bus.emit('tags:changed', { kind: 'bulk', scope });
      return held;
    },

    async setFlags(scope, ids, change) {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return new Map();
      const marks = flagMarksOf(change);
      if (marks.read !== undefined || marks.flagged !== undefined || marks.deleted !== undefined) announceFlags(await store.setFlags(scope, unique, marks));
      const keywords = change.flags.keywords ?? [];
      if (change.kind === 'replace') {
        // Only the messages whose tags differ (as tags compare: without regard to case), so that
        // the others are not announced as changed.
        const wanted = new Set(keywords.map((k) => k.toLowerCase()));
        const sameTags = (tags: readonly string[]) => tags.length === wanted.size && tags.every((t) => wanted.has(t.toLowerCase()));
        const differing = [...(await store.flagsOf(scope, unique)).values()].filter((entry) => !sameTags(entry.tags)).map((entry) => entry.id);
        if (differing.length > 0) await retag(scope, differing, (visibleIds) => store.setTags(visibleIds, keywords));
      } else if (keywords.length > 0) {
        await retag(scope, unique, (visibleIds) => store.changeTags(visibleIds, change.kind === 'add' ? keywords : [], change.kind === 'remove' ? keywords : []));
      }
      return store.flagsOf(scope, unique);
    },
  };
}
