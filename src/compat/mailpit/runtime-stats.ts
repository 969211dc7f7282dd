/**
 * The counters of Mailpit's /api/v1/info RuntimeStats, kept from the event bus since startup.
 * Kept per mailbox, so a login that may see only some mailboxes (src/api/access.ts) is told only
 * about them: how much mail other mailboxes receive is not its business either.
 */
import type { EventBus } from '../../events.js';
import { ALL_MAILBOXES, inScope, type MailboxScope } from '../../mail/mailbox-scope.js';
import type { MessageStore } from '../../store/types.js';

export interface RuntimeStats {
  readonly Uptime: number;
  readonly Memory: number;
  readonly MessagesDeleted: number;
  readonly SMTPAccepted: number;
  readonly SMTPAcceptedSize: number;
  /** Kotak does not count refused or ignored SMTP transactions on its bus: always 0. */
  readonly SMTPRejected: number;
  readonly SMTPIgnored: number;
}

interface MailboxCounters {
  accepted: number;
  acceptedSize: number;
  deleted: number;
  /** Messages in the mailbox, to count what a delete-all removed. */
  held: number;
}

/**
 * Listens for the life of the bus (one per running Kotak, dropped with it). A delete-all event
 * carries no count, so the number of stored messages is followed from the totals at startup.
 */
export function trackRuntimeStats(bus: EventBus, store: MessageStore, now: () => number = Date.now): (scope: MailboxScope) => RuntimeStats {
  const started = now();
  const counters = new Map<string, MailboxCounters>();
  const of = (mailbox: string): MailboxCounters => {
    let entry = counters.get(mailbox);
    if (!entry) counters.set(mailbox, (entry = { accepted: 0, acceptedSize: 0, deleted: 0, held: 0 }));
    return entry;
  };
  store.mailboxCounts(ALL_MAILBOXES).then(
    (mailboxes) => {
      for (const { name, total } of mailboxes) of(name).held += total;
    },
    () => undefined,
  );

  bus.on('message:stored', (summary) => {
    const entry = of(summary.mailbox);
    entry.accepted += 1;
    entry.acceptedSize += summary.size;
    entry.held += 1;
  });
  bus.on('message:deleted', ({ mailbox, ids }) => {
    const entry = of(mailbox);
    entry.deleted += ids.length;
    entry.held -= ids.length;
  });
  bus.on('messages:cleared', () => {
    for (const entry of counters.values()) {
      entry.deleted += Math.max(entry.held, 0);
      entry.held = 0;
    }
  });

  return (scope) => {
    let deleted = 0;
    let accepted = 0;
    let acceptedSize = 0;
    for (const [mailbox, entry] of counters) {
      if (!inScope(scope, mailbox)) continue;
      deleted += entry.deleted;
      accepted += entry.accepted;
      acceptedSize += entry.acceptedSize;
    }
    return {
      Uptime: Math.floor((now() - started) / 1000),
      Memory: process.memoryUsage().rss,
      MessagesDeleted: deleted,
      SMTPAccepted: accepted,
      SMTPAcceptedSize: acceptedSize,
      SMTPRejected: 0,
      SMTPIgnored: 0,
    };
  };
}
