/** The SQLite store on its own: group commit, isolation of a bad row, migrations on reopen, raw files. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { EMPTY_QUERY, parseSearchQuery } from '../../src/mail/search-query.js';
import { newMessageId } from '../../src/mail/id.js';
import type { NewMessage } from '../../src/mail/types.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const log = pino({ level: 'silent' });

function message(subject: string, id = newMessageId(), bodyBytes = 0): NewMessage {
  const body = bodyBytes > 0 ? Buffer.alloc(bodyBytes, `${subject} `).toString('latin1') : 'body';
  return {
    id,
    mailbox: 'default',
    receivedAt: Date.now(),
    envelope: { mailFrom: 'a@x.test', rcptTo: ['b@x.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${subject}\r\n\r\n${body}\r\n`, 'latin1'),
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
    expect((await store.stats(ALL_MAILBOXES)).total).toBe(1200);
    expect((await store.list(ALL_MAILBOXES, { query: parseSearchQuery('"bulk 1199"'), limit: 10 })).messages.map((m) => m.subject)).toEqual(['bulk 1199']);
    await store.close();
  });

  it('fails only the bad message of a batch, leaving nothing of it behind', async () => {
    const store = await openSqliteStore(join(dir, 'isolate.db'), { log });
    const duplicate = newMessageId();
    await store.insert(message('first', duplicate));
    const results = await Promise.allSettled([store.insert(message('ok 1')), store.insert(message('dup', duplicate)), store.insert(message('ok 2'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const page = await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 });
    expect(page.messages.map((m) => m.subject).sort()).toEqual(['first', 'ok 1', 'ok 2']);
    expect((await store.get(ALL_MAILBOXES, duplicate))?.subject).toBe('first');
    await store.close();
  });

  it('reopens an existing database without re-running migrations, and keeps the data', async () => {
    const path = join(dir, 'reopen.db');
    const first = await openSqliteStore(path, { log });
    const { id } = await first.insert(message('persisted'));
    await first.close();
    const second = await openSqliteStore(path, { log });
    expect((await second.get(ALL_MAILBOXES, id))?.subject).toBe('persisted');
    const next = await second.insert(message('after reopen'));
    expect((await second.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 1 })).messages[0]!.id).toBe(next.id);
    await second.close();
  });
});

describe('raw messages kept in files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-raw-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A low threshold keeps the test messages small; the default is 256 KB.
  const options = { log, rawFileMinBytes: 4096 };
  const big = (subject: string, id?: string): NewMessage => message(subject, id, 10_000);

  it('keeps large messages in files and small ones in the database, both read back byte for byte, across a reopen', async () => {
    const path = join(dir, 'split.db');
    const store = await openSqliteStore(path, options);
    const large = big('large one');
    const small = message('small one');
    const first = message('small first');
    await store.insert(first);
    // The directory appears with the first large message, not before.
    expect(existsSync(`${path}.raw`)).toBe(false);
    const [largeSummary, smallSummary] = await Promise.all([store.insert(large), store.insert(small)]);
    expect(readdirSync(`${path}.raw`)).toEqual([large.id]);
    expect(largeSummary.size).toBe(large.raw.length);
    expect((await store.getRaw(ALL_MAILBOXES, large.id))!.equals(large.raw)).toBe(true);
    expect((await store.getRaw(ALL_MAILBOXES, small.id))!.equals(small.raw)).toBe(true);
    expect(smallSummary.size).toBe(small.raw.length);
    // Listing, search and stats see the file-backed message like any other.
    expect((await store.list(ALL_MAILBOXES, { query: parseSearchQuery('"large one"'), limit: 5 })).messages.map((m) => [m.id, m.size])).toEqual([[large.id, large.raw.length]]);
    expect((await store.stats(ALL_MAILBOXES)).size).toBe(first.raw.length + large.raw.length + small.raw.length);
    await store.close();
    const reopened = await openSqliteStore(path, options);
    expect((await reopened.getRaw(ALL_MAILBOXES, large.id))!.equals(large.raw)).toBe(true);
    await reopened.close();
  });

  it('removes the files of deleted, cleared and pruned messages', async () => {
    const path = join(dir, 'delete.db');
    const store = await openSqliteStore(path, options);
    const files = (): string[] => readdirSync(`${path}.raw`).sort();
    // One after another: commit order (seq) decides which one pruning keeps.
    const inserted = [];
    for (const name of ['one', 'two', 'three', 'four']) inserted.push(await store.insert(big(`gone ${name}`)));
    const [a, b, c, d] = inserted;
    expect(files()).toEqual([a!.id, b!.id, c!.id, d!.id].sort());
    expect(await store.delete(ALL_MAILBOXES, a!.id)).toBe(true);
    expect(await store.getRaw(ALL_MAILBOXES, a!.id)).toBeNull();
    expect(await store.deleteMatching(ALL_MAILBOXES, parseSearchQuery('"gone two"'))).toEqual([{ id: b!.id, mailbox: 'default' }]);
    expect(await store.prune(ALL_MAILBOXES, { maxMessages: 1, receivedBefore: null })).toEqual([{ id: c!.id, mailbox: 'default' }]);
    expect(files()).toEqual([d!.id]);
    expect(await store.clear(ALL_MAILBOXES)).toBe(1);
    expect(files()).toEqual([]);
    await store.close();
  });

  it('sweeps files that a crash left without a message at the next start, but not recent ones or other names', async () => {
    const path = join(dir, 'sweep.db');
    const first = await openSqliteStore(path, options);
    const kept = big('kept');
    await first.insert(kept);
    await first.close();
    const stray = newMessageId();
    writeFileSync(join(`${path}.raw`, stray), 'written an hour ago, never committed');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(join(`${path}.raw`, stray), hourAgo, hourAgo);
    // A file just written may be another process's insert, between its file and its commit.
    const recent = newMessageId();
    writeFileSync(join(`${path}.raw`, recent), 'written just now');
    writeFileSync(join(`${path}.raw`, 'notes.txt'), 'not a message file');
    utimesSync(join(`${path}.raw`, 'notes.txt'), hourAgo, hourAgo);
    const second = await openSqliteStore(path, options);
    expect(readdirSync(`${path}.raw`).sort()).toEqual([kept.id, recent, 'notes.txt'].sort());
    expect((await second.getRaw(ALL_MAILBOXES, kept.id))!.equals(kept.raw)).toBe(true);
    await second.close();
  });

  it('refuses a message whose file cannot be written, storing nothing of it and touching no other file', async () => {
    const path = join(dir, 'unwritable.db');
    const store = await openSqliteStore(path, options);
    const first = big('first');
    await store.insert(first);
    // The same id again: its file exists, and must survive the refused duplicate.
    await expect(store.insert(big('duplicate', first.id))).rejects.toMatchObject({ code: 'storage_failed' });
    // A directory where the file would go.
    const blocked = newMessageId();
    mkdirSync(join(`${path}.raw`, blocked));
    await expect(store.insert(big('blocked', blocked))).rejects.toMatchObject({ code: 'storage_failed' });
    expect(await store.get(ALL_MAILBOXES, blocked)).toBeNull();
    expect((await store.getRaw(ALL_MAILBOXES, first.id))!.equals(first.raw)).toBe(true);
    expect((await store.stats(ALL_MAILBOXES)).total).toBe(1);
    await store.close();
  });

  it('answers a message whose file has gone missing with a storage error that names it', async () => {
    const path = join(dir, 'missing.db');
    const store = await openSqliteStore(path, options);
    const lost = big('lost');
    await store.insert(lost);
    rmSync(join(`${path}.raw`, lost.id));
    await expect(store.getRaw(ALL_MAILBOXES, lost.id)).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringContaining(lost.id) });
    expect((await store.get(ALL_MAILBOXES, lost.id))?.subject).toBe('lost');
    await store.close();
  });

  it('keeps everything in the database for :memory:', async () => {
    const store = await openSqliteStore(':memory:', options);
    const large = big('in memory');
    await store.insert(large);
    expect((await store.getRaw(ALL_MAILBOXES, large.id))!.equals(large.raw)).toBe(true);
    expect(existsSync(':memory:.raw')).toBe(false);
    await store.close();
  });
});
