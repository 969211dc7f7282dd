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
import type { MailboxCount, MessageStore, PruneLimits } from '../store/types.js';

export interface MailboxServiceDeps {
  readonly store: MessageStore;
  readonly bus: EventBus;
  /** Mailboxes that exist even when empty: `default` and those named by routing rules. */
  readonly configuredMailboxes?: readonly string[];
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
  /** Deletes these messages; announces in one 'message:deleted' those that existed, which it returns. */
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
  /** Marks every message matching the query; announces 'messages:updated' when any changed; returns how many. */
  markReadMatching(scope: MailboxScope, query: SearchQuery, read: boolean): Promise<number>;
  /** Applies retention limits within the scope; announces and returns the ids deleted. */
  prune(scope: MailboxScope, limits: PruneLimits): Promise<string[]>;
  /**
   * Replaces the tags of these messages (ids outside the scope are left out); announces
   * 'tags:changed' with each changed message's tags as stored; returns the ids changed.
   */
  setTags(scope: MailboxScope, ids: readonly string[], tags: readonly string[]): Promise<string[]>;
  /** Renames a tag everywhere; announces a bulk 'tags:changed' when any message held it; returns how many did. */
  renameTag(scope: MailboxScope, from: string, to: string): Promise<number>;
  /** Removes a tag from every message; announces a bulk 'tags:changed' when any held it; returns how many did. */
  deleteTag(scope: MailboxScope, name: string): Promise<number>;
}

/** Tags are one namespace shared by all mailboxes: renaming or removing one needs the scope of all. */
function requireAllMailboxes(scope: MailboxScope, what: string): void {
  if (scope.kind !== 'all') throw new KotakError('invalid_request', `${what} changes it in every mailbox, so it needs access to all of them`);
}

export function createMailboxService(deps: MailboxServiceDeps): MailboxService {
  const { store, bus } = deps;
  const configured = new Set([DEFAULT_MAILBOX, ...(deps.configuredMailboxes ?? [])]);

  const listMailboxes = async (scope: MailboxScope): Promise<MailboxCount[]> => {
    const counted = (await store.mailboxCounts(scope)).filter((m) => m.total > 0 || configured.has(m.name));
    const named = new Set(counted.map((m) => m.name));
    const empty = [...configured].filter((name) => !named.has(name) && inScope(scope, name)).map((name) => ({ name, total: 0, unread: 0, size: 0 }));
    return [...counted, ...empty].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  const announceDeleted = (ids: readonly string[]): void => {
    if (ids.length > 0) bus.emit('message:deleted', { ids });
  };

  return {
    async store(scope, message) {
      if (!inScope(scope, message.mailbox)) throw new KotakError('invalid_request', `mailbox "${message.mailbox}" is outside this caller's mailboxes`);
      const summary = await store.insert(message);
      bus.emit('message:stored', summary);
      return summary;
    },

    async storeCopies(scope, copies) {
      for (const copy of copies) {
        if (!inScope(scope, copy.mailbox)) throw new KotakError('invalid_request', `mailbox "${copy.mailbox}" is outside this caller's mailboxes`);
      }
      // Every insert is queued before any is awaited: they join the same group commit.
      const outcomes = await Promise.allSettled(copies.map((copy) => store.insert(copy)));
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
      if (!inScope(scope, name) || !(await listMailboxes(scope)).some((m) => m.name === name)) return null;
      const ids = await store.deleteMatching(onlyMailboxes([name]), EMPTY_QUERY);
      announceDeleted(ids);
      return ids;
    },

    async deleteByIds(scope, ids) {
      const deleted: string[] = [];
      try {
        for (const id of new Set(ids)) if (await store.delete(scope, id)) deleted.push(id);
      } finally {
        // Even when a later delete fails, the ones already committed are gone and must be announced.
        announceDeleted(deleted);
      }
      return deleted;
    },

    async deleteMatching(scope, query) {
      const ids = await store.deleteMatching(scope, query);
      announceDeleted(ids);
      return ids;
    },

    async clear(scope) {
      if (scope.kind === 'only') {
        // 'messages:cleared' tells every listener that the whole store is empty; emptying some
        // mailboxes is announced as the deletion of their messages.
        const ids = await store.deleteMatching(scope, EMPTY_QUERY);
        announceDeleted(ids);
        return ids.length;
      }
      const deleted = await store.clear(scope);
      bus.emit('messages:cleared', {});
      return deleted;
    },

    async markRead(scope, id, read) {
      const summary = await store.setRead(scope, id, read);
      if (summary) bus.emit('message:updated', { id, read });
      return summary;
    },

    async markReadMatching(scope, query, read) {
      const count = await store.setReadMatching(scope, query, read);
      if (count > 0) bus.emit('messages:updated', { read, count });
      return count;
    },

    async prune(scope, limits) {
      const ids = await store.prune(scope, limits);
      announceDeleted(ids);
      return ids;
    },

    async setTags(scope, ids, tags) {
      const unique = [...new Set(ids)];
      const visible = scope.kind === 'all' || unique.length === 0 ? unique : (await store.find(scope, { query: EMPTY_QUERY, ids: unique, limit: unique.length })).map((m) => m.id);
      const changed = await store.setTags(visible, tags);
      if (changed.length > 0) {
        // Read back: a tag that already exists keeps its first spelling.
        const extras = await store.summaryExtras(changed);
        bus.emit('tags:changed', { kind: 'set', messages: changed.map((id) => ({ id, tags: extras.get(id)?.tags ?? [] })) });
      }
      return changed;
    },

    async renameTag(scope, from, to) {
      requireAllMailboxes(scope, 'renaming a tag');
      const held = await store.renameTag(from, to);
      if (held > 0) bus.emit('tags:changed', { kind: 'bulk' });
      return held;
    },

    async deleteTag(scope, name) {
      requireAllMailboxes(scope, 'deleting a tag');
      const held = await store.deleteTag(name);
      if (held > 0) bus.emit('tags:changed', { kind: 'bulk' });
      return held;
    },
  };
}
