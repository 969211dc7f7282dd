/**
 * Mailpit's /api/v1/info RuntimeStats over a real SQLite store and the real bus: counted per
 * mailbox, so a login that sees some mailboxes is told only about them.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { trackRuntimeStats } from '../../src/compat/mailpit/runtime-stats.js';
import { createEventBus } from '../../src/events.js';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import { createMailboxService } from '../../src/mailbox/service.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { mailboxMessage } from '../helpers/mailboxes.js';

const log = pino({ level: 'silent' });

describe('Mailpit runtime stats', () => {
  let store: SqliteStore | undefined;
  afterEach(async () => store?.close());

  it("counts accepted and deleted messages per mailbox, including those held before the start", async () => {
    store = await openSqliteStore(':memory:', { log });
    // Held before Kotak (re)started: a later delete-all counts them as deleted.
    await store.insert(mailboxMessage('w2', 'old'));
    const bus = createEventBus((err) => {
      throw err;
    });
    const service = createMailboxService({ store, bus });
    const stats = trackRuntimeStats(bus, store);
    await expect.poll(async () => (await store!.mailboxCounts(ALL_MAILBOXES)).length).toBe(1);

    const w1 = await service.store(ALL_MAILBOXES, mailboxMessage('w1', 'one'));
    await service.store(ALL_MAILBOXES, mailboxMessage('w2', 'two'));
    await service.deleteByIds(ALL_MAILBOXES, [w1.id]);

    expect(stats(onlyMailboxes(['w1']))).toMatchObject({ SMTPAccepted: 1, SMTPAcceptedSize: w1.size, MessagesDeleted: 1 });
    expect(stats(onlyMailboxes(['w2']))).toMatchObject({ SMTPAccepted: 1, MessagesDeleted: 0 });
    expect(stats(onlyMailboxes([]))).toMatchObject({ SMTPAccepted: 0, SMTPAcceptedSize: 0, MessagesDeleted: 0 });
    expect(stats(ALL_MAILBOXES)).toMatchObject({ SMTPAccepted: 2, MessagesDeleted: 1 });

    await service.clear(ALL_MAILBOXES);
    expect(stats(onlyMailboxes(['w2']))).toMatchObject({ MessagesDeleted: 2 });
    expect(stats(ALL_MAILBOXES)).toMatchObject({ SMTPAccepted: 2, MessagesDeleted: 3 });
  });
});
