/**
 * Relay jobs belong to their message's mailbox (migration 007): copied at enqueue, filled in from
 * the messages when the migration runs on an older database, and what a scoped listing filters on.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import { migrate } from '../../src/store/migrate.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { openConnection } from '../../src/store/sqlite-driver.js';
import { mailboxMessage } from '../helpers/mailboxes.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-relay-mailbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recipients = [{ recipient: 'x@example.test', domain: 'example.test' }];

describe('relay jobs and mailboxes', () => {
  it('keep the mailbox they were queued for; a scoped listing shows only its own', async () => {
    const store = await openSqliteStore(':memory:', { log });
    try {
      const inA = await store.insert(mailboxMessage('a', 'for a'));
      const inB = await store.insert(mailboxMessage('b', 'for b'));
      const [jobA] = await store.relay.enqueue(inA.id, 'a', recipients, 1, 2);
      const [jobB] = await store.relay.enqueue(inB.id, 'b', recipients, 1, 2);
      expect(jobA).toMatchObject({ messageId: inA.id, mailbox: 'a' });
      expect((await store.relay.list(onlyMailboxes(['a']), { limit: 10 })).map((j) => j.id)).toEqual([jobA!.id]);
      expect((await store.relay.list(onlyMailboxes(['a', 'b']), { status: 'queued', limit: 10 })).map((j) => j.id)).toEqual([jobB!.id, jobA!.id]);
      expect(await store.relay.list(onlyMailboxes([]), { limit: 10 })).toEqual([]);
      expect(await store.relay.list(ALL_MAILBOXES, { limit: 10 })).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('get their mailbox from their message when migration 007 runs on an older database', async () => {
    const older = join(dir, 'migrations-006');
    mkdirSync(older);
    const source = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));
    for (const name of readdirSync(source).filter((f) => f < '007')) copyFileSync(join(source, name), join(older, name));
    const path = join(dir, 'older.db');
    const db = await openConnection(path);
    await migrate(db, pathToFileURL(`${older}/`));
    await db.run(
      `INSERT INTO messages (seq, id, mailbox, received_at, size, read, subject, snippet, to_json, cc_json, bcc_json, reply_to_json,
         from_search, to_search, cc_search, bcc_search, reply_to_search, has_attachments, has_inline, envelope_json)
       VALUES (1, 'kept', 'team-a', 0, 1, 0, '', '', '[]', '[]', '[]', '[]', '', '', '', '', '', 0, 0, '{}')`,
    );
    for (const messageId of ['kept', 'deleted-before']) {
      await db.run(
        `INSERT INTO relay_jobs (message_id, recipient, domain, status, attempts, give_up_at, created_at, updated_at)
         VALUES (?, 'x@example.test', 'example.test', 'delivered', 1, 0, 0, 0)`,
        [messageId],
      );
    }
    await db.close();

    const store = await openSqliteStore(path, { log });
    try {
      const jobs = await store.relay.list(ALL_MAILBOXES, { limit: 10 });
      expect(jobs.map((j) => [j.messageId, j.mailbox])).toEqual([
        ['deleted-before', 'default'],
        ['kept', 'team-a'],
      ]);
    } finally {
      await store.close();
    }
  });
});
