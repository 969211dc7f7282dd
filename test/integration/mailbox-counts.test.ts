/**
 * The kept per-mailbox counts (migration 006's mailbox_counts, maintained by triggers) against a
 * COUNT(*) scan of the messages, after a random sequence of every kind of write the store does.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import { newMessageId } from '../../src/mail/id.js';
import { EMPTY_QUERY, parseSearchQuery } from '../../src/mail/search-query.js';
import type { NewMessage } from '../../src/mail/types.js';
import { migrate } from '../../src/store/migrate.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { openConnection } from '../../src/store/sqlite-driver.js';
import { seededRandom } from '../helpers/random.js';

const log = pino({ level: 'silent' });
const MAILBOXES = ['a', 'b', 'c', 'default']; // by name, as mailboxCounts orders them

function message(mailbox: string, subject: string, bodyBytes: number): NewMessage {
  const body = 'x'.repeat(bodyBytes);
  return {
    id: newMessageId(),
    mailbox,
    receivedAt: Date.now(),
    envelope: { mailFrom: 'a@x.test', rcptTo: ['b@x.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${subject}\r\n\r\n${body}\r\n`),
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: 'a@x.test' }, to: [{ name: '', address: 'b@x.test' }], cc: [], bcc: [], replyTo: [],
        subject, messageId: null, date: null, text: body, html: null, htmlText: null, headers: [], attachments: [], snippet: '',
      },
    },
  };
}

/** What a scan of the messages says, for every mailbox that holds any. */
async function scanned(store: SqliteStore) {
  const counts = [];
  for (const name of MAILBOXES) {
    const stats = await store.stats(onlyMailboxes([name]));
    if (stats.total > 0) counts.push({ name, ...stats });
  }
  return counts;
}

async function kept(store: SqliteStore) {
  return (await store.mailboxCounts(ALL_MAILBOXES)).filter((m) => m.total > 0);
}

describe('mailbox counts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-counts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('equal a COUNT(*) scan after a random sequence of inserts, reads, deletes, clears and prunes', async () => {
    for (const seed of [1, 2, 3]) {
      const next = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      const store = await openSqliteStore(join(dir, `counts-${seed}.db`), { log });
      try {
        const ids: string[] = [];
        for (let step = 0; step < 300; step++) {
          const roll = next();
          const scope = next() < 0.3 ? ALL_MAILBOXES : onlyMailboxes([pick(MAILBOXES)]);
          if (roll < 0.45) {
            // A burst, so the group commit writes several rows in one statement.
            const burst = await Promise.all(Array.from({ length: 1 + Math.floor(next() * 5) }, () => store.insert(message(pick(MAILBOXES), pick(['red', 'blue']), Math.floor(next() * 200)))));
            ids.push(...burst.map((m) => m.id));
          } else if (roll < 0.65 && ids.length > 0) {
            await store.setRead(scope, pick(ids), next() < 0.7);
          } else if (roll < 0.72) {
            await store.setReadMatching(scope, parseSearchQuery(pick(['red', 'blue', ''])), next() < 0.5);
          } else if (roll < 0.85 && ids.length > 0) {
            await store.delete(scope, pick(ids));
          } else if (roll < 0.9) {
            await store.deleteMatching(scope, parseSearchQuery(pick(['red', 'blue'])));
          } else if (roll < 0.95) {
            await store.prune(scope, { maxMessages: Math.floor(next() * 10) });
          } else if (roll < 0.97) {
            await store.clear(scope);
          } else {
            await store.deleteMatching(scope, EMPTY_QUERY);
          }
          if (step % 25 === 0) expect(await kept(store), `seed ${seed}, step ${step}`).toEqual(await scanned(store));
        }
        expect(await kept(store), `seed ${seed}`).toEqual(await scanned(store));
      } finally {
        await store.close();
      }
    }
  });

  it('start from the messages already stored when migration 006 runs on an older database', async () => {
    // A database as Kotak left it before mailboxes: migrations 001–005 only, with messages in two mailboxes.
    const older = join(dir, 'migrations-005');
    mkdirSync(older);
    const source = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));
    for (const name of readdirSync(source).filter((f) => f < '006')) copyFileSync(join(source, name), join(older, name));
    const path = join(dir, 'older.db');
    const db = await openConnection(path);
    await migrate(db, pathToFileURL(`${older}/`));
    const row = (seq: number, mailbox: string, read: number, size: number) =>
      db.run(
        `INSERT INTO messages (seq, id, mailbox, received_at, size, read, subject, snippet, to_json, cc_json, bcc_json, reply_to_json,
           from_search, to_search, cc_search, bcc_search, reply_to_search, has_attachments, has_inline, envelope_json)
         VALUES (?, ?, ?, 0, ?, ?, '', '', '[]', '[]', '[]', '[]', '', '', '', '', '', 0, 0, '{}')`,
        [seq, `id${seq}`, mailbox, size, read],
      );
    await row(1, 'default', 0, 100);
    await row(2, 'default', 1, 50);
    await row(3, 'a', 0, 7);
    await db.close();

    const store = await openSqliteStore(path, { log });
    try {
      expect(await store.mailboxCounts(ALL_MAILBOXES)).toEqual([
        { name: 'a', total: 1, unread: 1, size: 7 },
        { name: 'default', total: 2, unread: 1, size: 150 },
      ]);
      // And they keep counting from there.
      await store.insert(message('a', 'new', 1));
      expect(await kept(store)).toEqual(await scanned(store));
    } finally {
      await store.close();
    }
  });

  it('are kept across a reopen, and a mailbox emptied keeps a row of zeros', async () => {
    const path = join(dir, 'reopen.db');
    let store = await openSqliteStore(path, { log });
    await Promise.all([store.insert(message('a', 's', 10)), store.insert(message('a', 's', 20)), store.insert(message('b', 's', 0))]);
    await store.close();
    store = await openSqliteStore(path, { log });
    try {
      expect(await kept(store)).toEqual(await scanned(store));
      await store.clear(onlyMailboxes(['b']));
      expect(await store.mailboxCounts(onlyMailboxes(['b']))).toEqual([{ name: 'b', total: 0, unread: 0, size: 0 }]);
    } finally {
      await store.close();
    }
  });
});
