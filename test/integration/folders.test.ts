/**
 * IMAP folders (src/access/folders.ts) over a real SQLite file, the real mailbox service, bus and
 * parser pool: flags stored and announced, seen by another session and after a restart; APPEND
 * and COPY through the intake; EXPUNGE through the service; which folders a login sees, both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFolderSource, loginFolders } from '../../src/access/folders.js';
import type { FolderAccess, FolderSource } from '../../src/access/folder-types.js';
import { createAppend } from '../../src/append.js';
import { createEventBus, type EventBus, type MailEventName, type MailEvents } from '../../src/events.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { createMailboxService, type MailboxService } from '../../src/mailbox/service.js';
import { compileRouting } from '../../src/mailbox/routing.js';
import { createParserPool, type ParserPool } from '../../src/parse/pool.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { rawMessage } from '../helpers/new-message.js';

const log = pino({ level: 'silent' });
const EVENTS: readonly MailEventName[] = ['message:stored', 'message:updated', 'messages:updated', 'message:deleted', 'message:flags', 'tags:changed'];
type Frame = { [K in MailEventName]: { type: K; data: MailEvents[K] } }[MailEventName];

const CLIENT = { address: '127.0.0.1', tls: false };

function mail(subject: string, extra: readonly string[] = []): Buffer {
  return rawMessage(['From: Ann <ann@example.test>', 'To: bob@example.test', 'Cc: cat@example.test', ...extra, `Subject: ${subject}`, '', `body of ${subject}`]);
}

describe('IMAP folders over SQLite', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;
  let bus: EventBus;
  let mailboxes: MailboxService;
  let parser: ParserPool;
  let frames: Frame[];

  async function open(): Promise<void> {
    store = await openSqliteStore(path, { log });
    bus = createEventBus((err) => {
      throw err;
    });
    mailboxes = createMailboxService({ store, bus });
    frames = [];
    for (const type of EVENTS) bus.on(type, (data) => frames.push({ type, data } as Frame));
  }

  function source(ownMailboxOnly: boolean): FolderSource {
    const routing = compileRouting({ routes: [], bySmtpUser: ownMailboxOnly });
    const append = createAppend({ parser, mailboxes, log, maxMessageSize: 1024 * 1024 });
    return createFolderSource({}, { store, mailboxes, append, policy: loginFolders(routing, ownMailboxOnly), log });
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kotak-folders-'));
    path = join(dir, 'kotak.db');
    parser = createParserPool({ size: 1, timeoutMs: 10_000 }, { log });
    await open();
  });
  afterEach(async () => {
    await store.close();
    await parser.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('APPEND stores the bytes through the intake: routed as imap-append, enveloped from the headers, dated, flagged, announced', async () => {
    const access = await source(false).open('anyone', CLIENT);
    const inbox = (await access.resolve('inbox'))!;
    expect(inbox).toEqual({ name: 'INBOX', mailbox: 'default' });
    const raw = mail('appended', ['Bcc: dan@example.test']);
    const at = Date.UTC(2025, 5, 1, 12, 0, 0);
    const appended = await access.append(inbox, raw, { seen: true, flagged: true, keywords: ['Work'] }, at);
    expect(appended).toMatchObject({ size: raw.length, receivedAt: at, flags: { seen: true, flagged: true, deleted: false, keywords: ['Work'] } });
    expect(await access.read(inbox, appended.id)).toEqual(raw);
    const detail = (await store.get(ALL_MAILBOXES, appended.id))!;
    expect(detail.route).toEqual({ mailbox: 'default', rule: 'imap-append' });
    expect(detail.envelope).toMatchObject({ mailFrom: 'ann@example.test', rcptTo: ['bob@example.test', 'cat@example.test', 'dan@example.test'], user: 'anyone' });
    expect(detail.subject).toBe('appended');
    expect(detail.read).toBe(true);
    // Stored already read: one 'message:stored' (read), then the keyword as a tag.
    expect(frames.map((f) => f.type)).toEqual(['message:stored', 'tags:changed']);
    expect(frames[0]!.data).toMatchObject({ id: appended.id, read: true });
    expect(appended.uid).toBe(await store.highestSeq());
  });

  it('APPEND refuses a message over --max-message-size (nothing stored); a message without address headers gets an empty envelope', async () => {
    const access = await source(false).open('anyone', CLIENT);
    const inbox = (await access.resolve('INBOX'))!;
    await expect(access.append(inbox, Buffer.alloc(1024 * 1024 + 1, 'a'), {}, null)).rejects.toMatchObject({ code: 'message_too_big' });
    expect(frames).toEqual([]);
    expect(await access.messages(inbox, { limit: 10 })).toEqual([]);
    const bare = await access.append(inbox, rawMessage(['Subject: no addresses', '', 'hi']), {}, null);
    expect((await store.get(ALL_MAILBOXES, bare.id))!.envelope).toMatchObject({ mailFrom: '', rcptTo: [], user: 'anyone', clientAddress: '127.0.0.1', tls: false });
  });

  it('STORE on more than 1,000 messages of a mailbox: one messages:updated for the read change, every id in message:flags', async () => {
    const access = await source(false).open('anyone', CLIENT);
    const inbox = (await access.resolve('INBOX'))!;
    const stored = await Promise.all(Array.from({ length: 1001 }, async (_, i) => store.insert({ ...(await seedOf(`bulk ${i}`)), id: `bulk-${String(i).padStart(5, '0')}` })));
    const ids = stored.map((m) => m.id);
    frames = [];
    const after = await access.setFlags(inbox, ids, { kind: 'add', flags: { seen: true, flagged: true } });
    expect(after.size).toBe(1001);
    expect(frames.filter((f) => f.type === 'message:updated')).toEqual([]);
    expect(frames.filter((f) => f.type === 'messages:updated').map((f) => f.data)).toEqual([{ mailbox: 'default', read: true, count: 1001 }]);
    const flagged = frames.filter((f): f is Extract<Frame, { type: 'message:flags' }> => f.type === 'message:flags');
    expect(flagged.flatMap((f) => f.data.ids).sort()).toEqual([...ids].sort());
    expect((await store.stats(ALL_MAILBOXES)).unread).toBe(0);
  });

  it('STORE flags: \\Seen as read (message:updated), \\Flagged and \\Deleted stored (message:flags), keywords as tags; seen by another session and after a restart', async () => {
    const access = await source(false).open('anyone', CLIENT);
    const inbox = (await access.resolve('INBOX'))!;
    const a = await access.append(inbox, mail('a'), {}, null);
    const b = await access.append(inbox, mail('b'), {}, null);
    frames = [];

    const after = await access.setFlags(inbox, [a.id, b.id], { kind: 'add', flags: { seen: true, flagged: true, keywords: ['$Label1'] } });
    expect(after.get(a.id)).toEqual({ seen: true, flagged: true, deleted: false, keywords: ['$Label1'] });
    expect(frames.filter((f) => f.type === 'message:updated').map((f) => f.data)).toEqual([
      { id: a.id, mailbox: 'default', read: true },
      { id: b.id, mailbox: 'default', read: true },
    ]);
    expect(frames.filter((f) => f.type === 'message:flags').map((f) => f.data)).toEqual([{ mailbox: 'default', ids: [a.id, b.id] }]);
    expect(frames.filter((f) => f.type === 'tags:changed')).toHaveLength(1);

    // Nothing changes, nothing is announced.
    frames = [];
    await access.setFlags(inbox, [a.id], { kind: 'add', flags: { seen: true, flagged: true, keywords: ['$label1'] } });
    expect(frames).toEqual([]);

    // Replace: exactly these flags.
    await access.setFlags(inbox, [a.id], { kind: 'replace', flags: { deleted: true, keywords: ['Other'] } });
    expect((await access.flagsOf(inbox, [a.id])).get(a.id)).toEqual({ seen: false, flagged: false, deleted: true, keywords: ['Other'] });
    expect(frames.map((f) => f.type).sort()).toEqual(['message:flags', 'message:updated', 'tags:changed']);

    // Remove.
    await access.setFlags(inbox, [b.id], { kind: 'remove', flags: { flagged: true, keywords: ['$Label1'] } });
    const other = await source(false).open('someone-else', CLIENT);
    expect((await other.flagsOf(inbox, [a.id, b.id])).get(b.id)).toEqual({ seen: true, flagged: false, deleted: false, keywords: [] });

    await store.close();
    await open();
    const restarted = await source(false).open('anyone', CLIENT);
    const listed = await restarted.messages(inbox, { limit: 10 });
    expect(listed.map((m) => [m.id, m.flags])).toEqual([
      [a.id, { seen: false, flagged: false, deleted: true, keywords: ['Other'] }],
      [b.id, { seen: true, flagged: false, deleted: false, keywords: [] }],
    ]);
    expect(restarted.uidValidity).toBe(access.uidValidity);
  });

  it('the folder index: oldest first, the newest `limit`, or those above a UID', async () => {
    const access = await source(false).open('anyone', CLIENT);
    const inbox = (await access.resolve('INBOX'))!;
    const stored = [];
    for (const subject of ['1', '2', '3', '4']) stored.push(await access.append(inbox, mail(subject), {}, null));
    const uids = stored.map((m) => m.uid);
    expect(uids).toEqual([...uids].sort((x, y) => x - y));
    expect((await access.messages(inbox, { limit: 2 })).map((m) => m.uid)).toEqual(uids.slice(2));
    expect((await access.messages(inbox, { afterUid: uids[0], limit: 10 })).map((m) => m.uid)).toEqual(uids.slice(1));
    expect(await access.messages(inbox, { afterUid: uids[3], limit: 10 })).toEqual([]);
    const status = await access.status(inbox, 10);
    expect(status).toEqual({ messages: 4, unseen: 4, uidNext: uids[3]! + 1, size: stored.reduce((s, m) => s + m.size, 0) });
    await access.setFlags(inbox, [stored[3]!.id], { kind: 'add', flags: { seen: true } });
    expect(await access.status(inbox, 2)).toMatchObject({ messages: 2, unseen: 1, size: stored[2]!.size + stored[3]!.size });
  });

  it('search answers by the store, among the given ids or the whole folder', async () => {
    const access = await source(false).open('anyone', CLIENT);
    const inbox = (await access.resolve('INBOX'))!;
    const a = await access.append(inbox, mail('alpha report'), {}, null);
    const b = await access.append(inbox, mail('beta report'), {}, null);
    expect(await access.search(inbox, parseSearchQuery('subject:report'), null)).toEqual(new Set([a.id, b.id]));
    expect(await access.search(inbox, parseSearchQuery('subject:report'), [b.id])).toEqual(new Set([b.id]));
    expect(await access.search(inbox, parseSearchQuery('alpha'), null)).toEqual(new Set([a.id]));
  });

  it('COPY keeps the bytes, flags, keywords and date, in a new message of the target (imap-copy); EXPUNGE deletes through the service', async () => {
    const anyone = await source(false).open('anyone', CLIENT);
    const inbox = (await anyone.resolve('INBOX'))!;
    const a = await anyone.append(inbox, mail('keep me'), { seen: true, flagged: true, keywords: ['Kept'] }, Date.UTC(2024, 0, 2));
    const b = await anyone.append(inbox, mail('me too'), {}, null);
    // A second mailbox to copy into (a folder exists once it holds mail or is configured).
    await mailboxes.store(ALL_MAILBOXES, { ...(await seedOf('archive')), mailbox: 'archive' });
    const archive = (await anyone.resolve('archive'))!;
    expect(archive).toEqual({ name: 'archive', mailbox: 'archive' });
    frames = [];
    const copies = await anyone.copy(inbox, [b.id, a.id, 'no-such-id'], archive);
    expect([...copies.keys()]).toEqual([a.id, b.id]);
    const copyOfA = copies.get(a.id)!;
    expect(copyOfA.id).not.toBe(a.id);
    expect(copyOfA.uid).toBeGreaterThan(b.uid);
    expect(copies.get(b.id)!.uid).toBeGreaterThan(copyOfA.uid);
    expect(copyOfA).toMatchObject({ size: a.size, receivedAt: a.receivedAt, flags: { seen: true, flagged: true, deleted: false, keywords: ['Kept'] } });
    expect(await anyone.read(archive, copyOfA.id)).toEqual(await anyone.read(inbox, a.id));
    expect((await store.get(ALL_MAILBOXES, copyOfA.id))!.route).toEqual({ mailbox: 'archive', rule: 'imap-copy' });
    expect(frames.filter((f) => f.type === 'message:stored').map((f) => (f.data as { mailbox: string }).mailbox)).toEqual(['archive', 'archive']);

    frames = [];
    expect(await anyone.expunge(inbox, [a.id, copyOfA.id])).toEqual([a.id]); // the copy is not in INBOX
    expect(frames).toEqual([{ type: 'message:deleted', data: { mailbox: 'default', ids: [a.id] } }]);
    expect(await anyone.read(inbox, a.id)).toBeNull();
  });

  it('which folders a login sees: every mailbox (INBOX = default), or with --mailbox-by-smtp-user only its own', async () => {
    for (const name of ['alice', 'bob']) await mailboxes.store(ALL_MAILBOXES, { ...(await seedOf(name)), mailbox: name });
    const everyone = await source(false).open('alice', CLIENT);
    expect(await everyone.folders()).toEqual([
      { name: 'INBOX', mailbox: 'default' },
      { name: 'alice', mailbox: 'alice' },
      { name: 'bob', mailbox: 'bob' },
    ]);
    expect(await everyone.resolve('bob')).toEqual({ name: 'bob', mailbox: 'bob' });
    expect(await everyone.resolve('nobody')).toBeNull();

    const own = await source(true).open('alice', CLIENT);
    expect(await own.folders()).toEqual([{ name: 'INBOX', mailbox: 'alice' }]);
    expect(await own.resolve('bob')).toBeNull();
    expect(await own.resolve('alice')).toBeNull(); // it is INBOX
    // A folder named by hand outside the login's mailboxes reads as empty and takes nothing.
    const bob = { name: 'bob', mailbox: 'bob' };
    expect(await own.messages(bob, { limit: 10 })).toEqual([]);
    const bobs = await everyone.messages(bob, { limit: 10 });
    expect(await own.read(bob, bobs[0]!.id)).toBeNull();
    expect(await own.expunge(bob, [bobs[0]!.id])).toEqual([]);
    await expect(own.append(bob, mail('x'), {}, null)).rejects.toMatchObject({ code: 'mailbox_not_allowed' });

    await expect(source(true).open('Not A Mailbox!', CLIENT)).rejects.toMatchObject({ code: 'no_maildrop' });
  });

  /** A parsed message made by the real parser pool (as the intake would). */
  async function seedOf(subject: string) {
    const raw = mail(subject);
    return {
      id: `seed-${subject}-${Math.random().toString(36).slice(2)}`,
      mailbox: 'default',
      receivedAt: Date.now(),
      envelope: { mailFrom: 'ann@example.test', rcptTo: ['bob@example.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
      raw,
      parsed: await parser.parse(raw),
    };
  }
});

describe('UIDs and UIDVALIDITY on SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kotak-uids-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a deleted newest message leaves its seq unused after a restart; UIDVALIDITY stays, and differs for a new database', async () => {
    const path = join(dir, 'a.db');
    const parser = createParserPool({ size: 1, timeoutMs: 10_000 }, { log });
    try {
      const raw = mail('x');
      const message = async () => ({
        id: `m-${Math.random().toString(36).slice(2)}`,
        mailbox: 'default',
        receivedAt: Date.now(),
        envelope: { mailFrom: 'a@x.test', rcptTo: ['b@x.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
        raw,
        parsed: await parser.parse(raw),
      });
      let store = await openSqliteStore(path, { log });
      const validity = await store.uidValidity();
      expect(validity).toBeGreaterThanOrEqual(1);
      expect(validity).toBeLessThanOrEqual(2 ** 31 - 1);
      await store.insert(await message());
      const newest = await store.insert(await message());
      const newestSeq = (await store.flagsOf(ALL_MAILBOXES, [newest.id])).get(newest.id)!.seq;
      expect(await store.highestSeq()).toBe(newestSeq);
      expect(await store.delete(ALL_MAILBOXES, newest.id)).toBe(true);
      await store.close();

      store = await openSqliteStore(path, { log });
      expect(await store.uidValidity()).toBe(validity);
      expect(await store.highestSeq()).toBe(newestSeq);
      const next = await store.insert(await message());
      expect((await store.flagsOf(ALL_MAILBOXES, [next.id])).get(next.id)!.seq).toBeGreaterThan(newestSeq);
      // Emptied whole, the same holds.
      await store.clear(ALL_MAILBOXES);
      await store.close();
      store = await openSqliteStore(path, { log });
      const after = await store.insert(await message());
      expect((await store.flagsOf(ALL_MAILBOXES, [after.id])).get(after.id)!.seq).toBeGreaterThan(newestSeq + 1);
      await store.close();

      const other = await openSqliteStore(join(dir, 'b.db'), { log });
      expect(await other.uidValidity()).not.toBe(validity);
      await other.close();
    } finally {
      await parser.close();
    }
  });
});
