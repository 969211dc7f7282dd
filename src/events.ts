/**
 * The typed in-process event bus. Producers emit after a commit; consumers (the live hub, later
 * waiters, relay, webhooks) subscribe. Storage never emits: the caller does, once data is durable.
 */
import type { MailboxScope } from './mail/mailbox-scope.js';
import type { MessageSummary } from './mail/types.js';
import type { RelayJob } from './store/relay-types.js';

export interface MailEvents {
  'message:stored': MessageSummary;
  'message:updated': { readonly id: string; readonly mailbox: string; readonly read: boolean };
  /** Many messages of one mailbox changed read state at once (e.g. "mark all read"); listeners refetch. One event per mailbox. */
  'messages:updated': { readonly mailbox: string; readonly read: boolean; readonly count: number };
  /** Messages of one mailbox were deleted; a deletion across mailboxes is one event per mailbox. */
  'message:deleted': { readonly mailbox: string; readonly ids: readonly string[] };
  'messages:cleared': Record<string, never>;
  /**
   * IMAP's stored \Flagged or \Deleted changed on these messages of one mailbox (issue 21); listeners
   * re-read their flags. Not a live frame: neither the web inbox nor the API shows these flags.
   */
  'message:flags': { readonly mailbox: string; readonly ids: readonly string[] };
  /** Tags of messages changed (only Mailpit's API has tags so far; not a live frame of Kotak's own). */
  'tags:changed': TagChange;
  /** A relay job was queued or its status changed. */
  'relay:updated': RelayJob;
}

export type TagChange =
  /** These messages now have exactly these tags. */
  | { readonly kind: 'set'; readonly messages: readonly { readonly id: string; readonly mailbox: string; readonly tags: readonly string[] }[] }
  /**
   * A tag was renamed or removed on every message of `scope` (the caller's mailboxes) that held
   * it: too broad to list, clients that may see any of `scope` refetch.
   */
  | { readonly kind: 'bulk'; readonly scope: MailboxScope };

export type MailEventName = keyof MailEvents;

/**
 * Every event's name, for settings that name events (`--webhook-events`); a Record so that a new
 * event in MailEvents fails to compile until it is listed here.
 */
const EVENT_NAMES: Readonly<Record<MailEventName, true>> = {
  'message:stored': true, 'message:updated': true, 'messages:updated': true, 'message:deleted': true,
  'messages:cleared': true, 'message:flags': true, 'tags:changed': true, 'relay:updated': true,
};
export const MAIL_EVENT_NAMES: readonly MailEventName[] = Object.keys(EVENT_NAMES) as MailEventName[];

type Listener<K extends MailEventName> = (data: MailEvents[K]) => void;

export interface EventBus {
  emit<K extends MailEventName>(name: K, data: MailEvents[K]): void;
  on<K extends MailEventName>(name: K, listener: Listener<K>): () => void;
}

export function createEventBus(onListenerError: (err: unknown, name: MailEventName) => void): EventBus {
  const listeners = new Map<MailEventName, Set<Listener<MailEventName>>>();
  return {
    emit(name, data) {
      for (const listener of listeners.get(name) ?? []) {
        // One faulty consumer must not break ingest or starve the others.
        try {
          (listener as Listener<typeof name>)(data);
        } catch (err) {
          onListenerError(err, name);
        }
      }
    },
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as Listener<MailEventName>);
      return () => set.delete(listener as Listener<MailEventName>);
    },
  };
}
