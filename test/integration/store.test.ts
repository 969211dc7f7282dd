/** The SQLite store on its own: group commit, isolation of a bad row, migrations on reopen. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_QUERY, parseSearchQuery } from '../../src/mail/search-query.js';
import { newMessageId } from '../../src/mail/id.js';
import type { NewMessage } from '../../src/mail/types.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const log = pino({ level: 'silent' });

function message(subject: string, id = newMessageId()): NewMessage {
  return {
    id,
    mailbox: 'default',
    receivedAt: Date.now(),
    envelope: { mailFrom: 'a@x.test', rcptTo: ['b@x.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`),
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: 'a@x.test' }, to: [{ name: '', address: 'b@x.test' }], cc: [], bcc: [], replyTo: [],
        subject, messageId: null, date: null, text: 'body', html: null, htmlText: null, headers: [], attachments: [], snippet: 'body',
      },
    },
  };
}

describe('sqlite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('commits concurrent inserts in groups, all visible and searchable afterwards', async () => {
    const store = await openSqliteStore(join(dir, 'group.db'), { log });
    const summaries = await Promise.all(Array.from({ length: 1200 }, (_, i) => store.insert(message(`bulk ${i}`))));
    expect(new Set(summaries.map((s) => s.id)).size).toBe(1200);
    expect((await store.stats()).total).toBe(1200);
    expect((await store.list({ query: parseSearchQuery('"bulk 1199"'), limit: 10 })).messages.map((m) => m.subject)).toEqual(['bulk 1199']);
    await store.close();
  });

  it('fails only the bad message of a batch, leaving nothing of it behind', async () => {
    const store = await openSqliteStore(join(dir, 'isolate.db'), { log });
    const duplicate = newMessageId();
    await store.insert(message('first', duplicate));
    const results = await Promise.allSettled([store.insert(message('ok 1')), store.insert(message('dup', duplicate)), store.insert(message('ok 2'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const page = await store.list({ query: EMPTY_QUERY, limit: 10 });
    expect(page.messages.map((m) => m.subject).sort()).toEqual(['first', 'ok 1', 'ok 2']);
    expect((await store.get(duplicate))?.subject).toBe('first');
    await store.close();
  });

  it('reopens an existing database without re-running migrations, and keeps the data', async () => {
    const path = join(dir, 'reopen.db');
    const first = await openSqliteStore(path, { log });
    const { id } = await first.insert(message('persisted'));
    await first.close();
    const second = await openSqliteStore(path, { log });
    expect((await second.get(id))?.subject).toBe('persisted');
    const next = await second.insert(message('after reopen'));
    expect((await second.list({ query: EMPTY_QUERY, limit: 1 })).messages[0]!.id).toBe(next.id);
    await second.close();
  });
});
