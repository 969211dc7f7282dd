/**
 * The event bus, as IMAP sessions need it: one subscription for the whole server, fanned out to
 * the sessions that have a folder of that mailbox selected. A session hears only that something
 * changed (new mail, these ids gone, these ids' flags); it asks the folder for the facts when it
 * next may tell its client (src/imap/mailbox-view.ts), so events never race the store.
 */
import type { EventBus } from '../events.js';
import { inScope } from '../mail/mailbox-scope.js';

export type FolderChange =
  | { readonly kind: 'stored' }
  | { readonly kind: 'deleted'; readonly ids: readonly string[] }
  | { readonly kind: 'flags'; readonly ids: readonly string[] }
  /** Flags of any message may have changed (mark all read, a tag renamed). */
  | { readonly kind: 'all-flags' }
  /** Any message may be gone (the store was cleared). */
  | { readonly kind: 'recheck' };

export type FolderListener = (change: FolderChange) => void;

export interface FolderEvents {
  /** Hears the changes of one mailbox until the returned function is called. */
  watch(mailbox: string, listener: FolderListener): () => void;
  close(): void;
}

export function createFolderEvents(bus: EventBus): FolderEvents {
  const watchers = new Map<string, Set<FolderListener>>();
  const tell = (mailbox: string, change: FolderChange): void => {
    for (const listener of watchers.get(mailbox) ?? []) listener(change);
  };
  const tellAll = (change: FolderChange, only: (mailbox: string) => boolean = () => true): void => {
    for (const mailbox of watchers.keys()) if (only(mailbox)) tell(mailbox, change);
  };
  /** Ids grouped by mailbox, for events that list messages of several mailboxes. */
  const byMailbox = (messages: readonly { readonly id: string; readonly mailbox: string }[]): Map<string, string[]> => {
    const grouped = new Map<string, string[]>();
    for (const { id, mailbox } of messages) grouped.set(mailbox, [...(grouped.get(mailbox) ?? []), id]);
    return grouped;
  };
  const unsubscribe = [
    bus.on('message:stored', (summary) => tell(summary.mailbox, { kind: 'stored' })),
    bus.on('message:deleted', (event) => tell(event.mailbox, { kind: 'deleted', ids: event.ids })),
    bus.on('message:updated', (event) => tell(event.mailbox, { kind: 'flags', ids: [event.id] })),
    bus.on('message:flags', (event) => tell(event.mailbox, { kind: 'flags', ids: event.ids })),
    bus.on('messages:updated', (event) => tell(event.mailbox, { kind: 'all-flags' })),
    bus.on('messages:cleared', () => tellAll({ kind: 'recheck' })),
    bus.on('tags:changed', (event) => {
      if (event.kind === 'bulk') return tellAll({ kind: 'all-flags' }, (mailbox) => inScope(event.scope, mailbox));
      for (const [mailbox, ids] of byMailbox(event.messages)) tell(mailbox, { kind: 'flags', ids });
    }),
  ];
  return {
    watch(mailbox, listener) {
      let set = watchers.get(mailbox);
      if (!set) watchers.set(mailbox, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) watchers.delete(mailbox);
      };
    },
    close() {
      for (const stop of unsubscribe) stop();
      watchers.clear();
    },
  };
}
