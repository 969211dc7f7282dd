/**
 * A mail client's view of its mailbox (POP3's "maildrop"; later an IMAP mailbox's messages):
 * a snapshot taken at login of the newest messages of the one mailbox the login reads, oldest
 * first, with stable ids and sizes. Which mailbox that is, is the composition root's policy
 * (`readerMailbox`); every read and delete stays within it. Protocol-neutral: numbering, deletion
 * marks and replies belong to the protocol session.
 *
 * Reads only through the MessageStore interface; removals go through the mailbox service
 * (src/mailbox/service.ts), so they are announced exactly like an API delete.
 */
import type { Logger } from 'pino';
import { KotakError } from '../errors.js';
import { onlyMailboxes } from '../mail/mailbox-scope.js';
import { EMPTY_QUERY } from '../mail/search-query.js';
import type { MailboxService } from '../mailbox/service.js';
import type { MessageStore } from '../store/types.js';
import { crlfForm, crlfLength } from './line-endings.js';

export interface MaildropMessage {
  /** Kotak's message id: stable across sessions (POP3 UIDL, IMAP UID source). */
  readonly id: string;
  /** Octets of the message as handed out (CRLF line endings), as RFC 1939 counts them. */
  readonly size: number;
}

export interface Maildrop {
  /** The mailbox this snapshot is of. */
  readonly mailbox: string;
  /** Oldest first; fixed for the life of the snapshot even if mail arrives or is deleted meanwhile. */
  readonly messages: readonly MaildropMessage[];
  /** The message in CRLF form, or null when it was deleted since the snapshot. */
  read(id: string): Promise<Buffer | null>;
  /** Deletes these messages and announces them; returns those that still existed. */
  expunge(ids: readonly string[]): Promise<string[]>;
}

export interface MaildropSource {
  /**
   * A snapshot of the mailbox this (already authenticated) user reads. Rejects with a
   * KotakError `no_maildrop` when the user has no mailbox to read; any other rejection is the store's.
   */
  open(user: string): Promise<Maildrop>;
}

export interface MaildropOptions {
  /** How many of the newest messages a snapshot holds. */
  readonly limit: number;
}

export interface MaildropDeps {
  readonly store: MessageStore;
  readonly mailboxes: MailboxService;
  readonly log: Logger;
  /** The mailbox a login reads, or null when it has none (mailbox/routing.ts's `readerMailbox`). */
  readonly readerMailbox: (user: string) => string | null;
}

/**
 * Sizes need the raw bytes (bare LFs count double), and stored messages never change, so each
 * size is computed once and remembered. Bounded: past this, the oldest entries are forgotten.
 */
const SIZE_CACHE_ENTRIES = 20_000;

export function createMaildropSource(options: MaildropOptions, deps: MaildropDeps): MaildropSource {
  const { store, mailboxes, log, readerMailbox } = deps;
  const sizes = new Map<string, number>();

  const rememberSize = (id: string, size: number): void => {
    sizes.set(id, size);
    if (sizes.size > SIZE_CACHE_ENTRIES) sizes.delete(sizes.keys().next().value as string);
  };

  return {
    async open(user) {
      const mailbox = readerMailbox(user);
      if (mailbox === null) {
        // Refused, not an empty maildrop: as on the hosted services, a credential either opens
        // its inbox or the login fails. An empty list would look like "no mail arrived" while the
        // user's SMTP mail sits in `default`; an error names the cause at once.
        throw new KotakError('no_maildrop', 'this user name is not a mailbox name (a-z, 0-9, then also . _ -, at most 64), so it has no mailbox to read');
      }
      const scope = onlyMailboxes([mailbox]);
      const page = await store.list(scope, { query: EMPTY_QUERY, limit: options.limit });
      const newestFirst = page.messages;
      const messages: MaildropMessage[] = [];
      for (const summary of newestFirst.reverse()) {
        let size = sizes.get(summary.id);
        if (size === undefined) {
          const raw = await store.getRaw(scope, summary.id);
          if (!raw) continue; // deleted between the listing and now: not part of the snapshot
          size = crlfLength(raw);
          rememberSize(summary.id, size);
        }
        messages.push({ id: summary.id, size });
      }
      return {
        mailbox,
        messages,
        async read(id) {
          const raw = await store.getRaw(scope, id);
          return raw && crlfForm(raw);
        },
        async expunge(ids) {
          const deleted = await mailboxes.deleteByIds(scope, ids);
          if (deleted.length < ids.length) log.debug({ asked: ids.length, deleted: deleted.length }, 'some messages were already deleted');
          return deleted;
        },
      };
    },
  };
}
