/** The counters of Mailpit's /api/v1/info RuntimeStats, kept from the event bus since startup. */
import type { EventBus } from '../../events.js';
import { ALL_MAILBOXES } from '../../mail/mailbox-scope.js';
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

/**
 * Listens for the life of the bus (one per running Kotak, dropped with it). A delete-all event
 * carries no count, so the number of stored messages is followed from the totals at startup.
 */
export function trackRuntimeStats(bus: EventBus, store: MessageStore, now: () => number = Date.now): () => RuntimeStats {
  const started = now();
  let accepted = 0;
  let acceptedSize = 0;
  let deleted = 0;
  /** Messages in the store, to count what a delete-all removed. */
  let held = 0;
  store.stats(ALL_MAILBOXES).then(
    (stats) => (held += stats.total),
    () => undefined,
  );

  bus.on('message:stored', (summary) => {
    accepted += 1;
    acceptedSize += summary.size;
    held += 1;
  });
  bus.on('message:deleted', ({ ids }) => {
    deleted += ids.length;
    held -= ids.length;
  });
  bus.on('messages:cleared', () => {
    deleted += Math.max(held, 0);
    held = 0;
  });

  return () => ({
    Uptime: Math.floor((now() - started) / 1000),
    Memory: process.memoryUsage().rss,
    MessagesDeleted: deleted,
    SMTPAccepted: accepted,
    SMTPAcceptedSize: acceptedSize,
    SMTPRejected: 0,
    SMTPIgnored: 0,
  });
}
