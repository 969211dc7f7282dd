/**
 * The mailbox service over a real SQLite store and the real bus: each write is followed by exactly
 * the frame the routes emitted before the service existed, nothing when nothing changed; and a
 * scope of some mailboxes limits every read and write of the store to them.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventBus, type EventBus, type MailEventName, type MailEvents } from '../../src/events.js';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import { EMPTY_QUERY, parseSearchQuery } from '../../src/mail/search-query.js';
import type { NewMessage } from '../../src/mail/types.js';
import { createMailboxService, type MailboxService } from '../../src/mailbox/service.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { mailboxMessage } from '../helpers/mailboxes.js';

const log = pino({ level: 'silent' });
const EVENTS: readonly MailEventName[] = ['message:stored', 'message:updated', 'messages:updated', 'message:deleted', 'messages:cleared', 'tags:changed'];

type Frame = { [K in MailEventName]: { type: K; data: MailEvents[K] } }[MailEventName];

/** A small parsed message (test/helpers/mailboxes.ts), in `default` unless told. */
const message = (subject: string, mailbox = 'default'): NewMessage => mailboxMessage(mailbox, subject);

describe('mailbox service', () => {
  let store: SqliteStore;
  let bus: EventBus;
  let service: MailboxService;
  let frames: Frame[];

  beforeEach(async () => {
    store = await openSqliteStore(':memory:', { log });
    bus = createEventBus((err) => {
      throw err;
    });
    service = createMailboxService({ store, bus });
    frames = [];
    for (const type of EVENTS) bus.on(type, (data) => frames.push({ type, data } as Frame));
  });
  afterEach(async () => {
    await store.close();
  });

  /** Inserts straight into the store, which announces nothing. */
  async function seed(...messages: NewMessage[]): Promise<string[]> {
    const ids: string[] = [];
    for (const m of messages) ids.push((await store.insert(m)).id);
    return ids;
  }

  describe('writes, then emits the frame the routes emitted', () => {
    it('store: commits, then message:stored with the summary, readable when heard', async () => {
      let readBack: unknown = 'not heard';
      bus.on('message:stored', (summary) => void store.get(ALL_MAILBOXES, summary.id).then((m) => (readBack = m?.subject)));
      const summary = await service.store(ALL_MAILBOXES, message('hello'));
      expect(frames).toEqual([{ type: 'message:stored', data: summary }]);
      expect(summary).toMatchObject({ subject: 'hello', mailbox: 'default', read: false });
      await expect.poll(() => readBack).toBe('hello');
    });

    it('store: a message for a mailbox outside the scope is refused, not stored, not announced', async () => {
      await expect(service.store(onlyMailboxes(['a']), message('elsewhere', 'b'))).rejects.toMatchObject({ code: 'invalid_request' });
      expect(frames).toEqual([]);
      expect((await store.stats(ALL_MAILBOXES)).total).toBe(0);
    });

    it('deleteByIds: one message:deleted with the ids that existed (once each); nothing when none did', async () => {
      const [a, b] = await seed(message('one'), message('two'), message('three'));
      expect(await service.deleteByIds(ALL_MAILBOXES, [a!, 'unknown', b!, a!])).toEqual([a, b]);
      expect(frames).toEqual([{ type: 'message:deleted', data: { mailbox: 'default', ids: [a, b] } }]);
      frames.length = 0;
      expect(await service.deleteByIds(ALL_MAILBOXES, [a!, 'unknown'])).toEqual([]);
      expect(frames).toEqual([]);
      expect((await store.stats(ALL_MAILBOXES)).total).toBe(1);
    });

    it('deleteMatching: message:deleted with the matching ids; nothing when none matched', async () => {
      const [, two] = await seed(message('keep'), message('drop me'));
      expect(await service.deleteMatching(ALL_MAILBOXES, parseSearchQuery('subject:drop'))).toEqual([two]);
      expect(frames).toEqual([{ type: 'message:deleted', data: { mailbox: 'default', ids: [two] } }]);
      frames.length = 0;
      expect(await service.deleteMatching(ALL_MAILBOXES, parseSearchQuery('subject:drop'))).toEqual([]);
      expect(frames).toEqual([]);
    });

    it('clear of every mailbox: messages:cleared {} and the count (announced even when empty: listeners reset)', async () => {
      await seed(message('one'), message('two'));
      expect(await service.clear(ALL_MAILBOXES)).toBe(2);
      expect(frames).toEqual([{ type: 'messages:cleared', data: {} }]);
      expect(await service.clear(ALL_MAILBOXES)).toBe(0);
      expect(frames).toHaveLength(2);
      expect((await store.stats(ALL_MAILBOXES)).total).toBe(0);
    });

    it('markRead: message:updated { id, mailbox, read } and the updated summary; null and nothing for an unknown id', async () => {
      const [id] = await seed(message('one'));
      expect(await service.markRead(ALL_MAILBOXES, id!, true)).toMatchObject({ id, read: true });
      expect(frames).toEqual([{ type: 'message:updated', data: { id, mailbox: 'default', read: true } }]);
      frames.length = 0;
      expect(await service.markRead(ALL_MAILBOXES, 'unknown', true)).toBeNull();
      expect(frames).toEqual([]);
    });

    it('markReadMatching: messages:updated { mailbox, read, count } for those that changed; nothing when none changed', async () => {
      await seed(message('one'), message('two'), message('other'));
      expect(await service.markReadMatching(ALL_MAILBOXES, parseSearchQuery('subject:o'), true)).toBe(3);
      expect(frames).toEqual([{ type: 'messages:updated', data: { mailbox: 'default', read: true, count: 3 } }]);
      frames.length = 0;
      expect(await service.markReadMatching(ALL_MAILBOXES, EMPTY_QUERY, true)).toBe(0);
      expect(frames).toEqual([]);
    });

    it('prune: message:deleted with the pruned ids; nothing when within the limits', async () => {
      const [oldest, , newest] = await seed(message('1'), message('2'), message('3'));
      expect(await service.prune(ALL_MAILBOXES, { maxMessages: 2 })).toEqual([oldest]);
      expect(frames).toEqual([{ type: 'message:deleted', data: { mailbox: 'default', ids: [oldest] } }]);
      frames.length = 0;
      expect(await service.prune(ALL_MAILBOXES, { maxMessages: 2, receivedBefore: 0 })).toEqual([]);
      expect(frames).toEqual([]);
      expect((await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 })).messages[0]!.id).toBe(newest);
    });

    it('setTags: tags:changed with each changed message and its tags as stored; nothing for unknown ids', async () => {
      const [one, two] = await seed(message('one'), message('two'));
      await service.setTags(ALL_MAILBOXES, [one!], ['Urgent']);
      frames.length = 0;
      expect(await service.setTags(ALL_MAILBOXES, [two!, 'unknown', two!], ['urgent', 'b'])).toEqual([two]);
      // The existing spelling wins.
      expect(frames).toEqual([{ type: 'tags:changed', data: { kind: 'set', messages: [{ id: two, mailbox: 'default', tags: ['b', 'Urgent'] }] } }]);
      frames.length = 0;
      expect(await service.setTags(ALL_MAILBOXES, ['unknown'], ['x'])).toEqual([]);
      expect(frames).toEqual([]);
    });

    it('renameTag and deleteTag: a bulk tags:changed when a message held the tag; nothing otherwise', async () => {
      const [one] = await seed(message('one'));
      await service.setTags(ALL_MAILBOXES, [one!], ['old']);
      frames.length = 0;
      expect(await service.renameTag(ALL_MAILBOXES, 'old', 'new')).toBe(1);
      expect(await service.renameTag(ALL_MAILBOXES, 'old', 'newer')).toBe(0);
      expect(await service.deleteTag(ALL_MAILBOXES, 'new')).toBe(1);
      expect(await service.deleteTag(ALL_MAILBOXES, 'new')).toBe(0);
      expect(frames).toEqual([
        { type: 'tags:changed', data: { kind: 'bulk', scope: ALL_MAILBOXES } },
        { type: 'tags:changed', data: { kind: 'bulk', scope: ALL_MAILBOXES } },
      ]);
    });
  });

  describe("a scope of mailbox 'a' sees and changes only 'a'", () => {
    const onlyA = onlyMailboxes(['a']);

    it('reads: list, listAt, find, stats, get and getRaw', async () => {
      const [a1, b1, a2] = await seed(message('a one', 'a'), message('b one', 'b'), message('a two', 'a'));
      await store.setRead(ALL_MAILBOXES, b1!, true);
      const listed = await store.list(onlyA, { query: EMPTY_QUERY, limit: 1 });
      expect([listed.total, listed.messages.map((m) => m.id)]).toEqual([2, [a2]]);
      const older = await store.list(onlyA, { query: EMPTY_QUERY, limit: 1, cursor: listed.nextCursor });
      expect([older.messages.map((m) => m.id), older.nextCursor]).toEqual([[a1], null]);
      expect((await store.list(onlyA, { query: parseSearchQuery('one'), limit: 10 })).messages.map((m) => m.id)).toEqual([a1]);
      expect(await store.listAt(onlyA, { query: EMPTY_QUERY, start: 0, limit: 10 })).toMatchObject({ total: 2, unread: 2 });
      expect((await store.find(onlyA, { query: EMPTY_QUERY, ids: [a1!, b1!], limit: 10 })).map((m) => m.id)).toEqual([a1]);
      expect(await store.stats(onlyA)).toMatchObject({ total: 2, unread: 2 });
      expect(await store.stats(onlyMailboxes(['b']))).toMatchObject({ total: 1, unread: 0 });
      expect(await store.stats(onlyMailboxes([]))).toEqual({ total: 0, unread: 0, size: 0 });
      expect(await store.stats(onlyMailboxes(['a', 'b']))).toMatchObject({ total: 3 });
      expect((await store.get(onlyA, a1!))?.subject).toBe('a one');
      expect(await store.get(onlyA, b1!)).toBeNull();
      expect(await store.getRaw(onlyA, b1!)).toBeNull();
      expect((await store.getRaw(onlyA, a1!))?.toString()).toContain('a one');
    });

    it("writes through the service: another mailbox's messages are absent, untouched and unannounced", async () => {
      const [a1, b1, a2, b2] = await seed(message('a one', 'a'), message('b one', 'b'), message('a two', 'a'), message('b two', 'b'));
      expect(await service.markRead(onlyA, b1!, true)).toBeNull();
      expect(await service.deleteByIds(onlyA, [b1!])).toEqual([]);
      expect(await service.deleteMatching(onlyA, parseSearchQuery('one'))).toEqual([a1]);
      expect(await service.markReadMatching(onlyA, EMPTY_QUERY, true)).toBe(1);
      expect(frames).toEqual([
        { type: 'message:deleted', data: { mailbox: 'a', ids: [a1] } },
        { type: 'messages:updated', data: { mailbox: 'a', read: true, count: 1 } },
      ]);
      expect(await store.stats(onlyMailboxes(['b']))).toMatchObject({ total: 2, unread: 2 });
      frames.length = 0;

      // Clearing some mailboxes announces the deletion of their messages, not an empty store.
      expect(await service.clear(onlyA)).toBe(1);
      expect(frames).toEqual([{ type: 'message:deleted', data: { mailbox: 'a', ids: [a2] } }]);
      expect((await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 })).messages.map((m) => m.id)).toEqual([b2, b1]);
    });

    it('a delete or bulk mark across mailboxes announces one frame per mailbox, carrying it', async () => {
      const [a1, b1, a2, b2, c1] = await seed(message('x a1', 'a'), message('x b1', 'b'), message('x a2', 'a'), message('x b2', 'b'), message('x c1', 'c'));
      expect(await service.markReadMatching(onlyMailboxes(['a', 'b']), EMPTY_QUERY, true)).toBe(4);
      expect(await service.deleteByIds(ALL_MAILBOXES, [a1!, b1!, c1!])).toEqual([a1, b1, c1]);
      expect(await service.deleteMatching(ALL_MAILBOXES, parseSearchQuery('subject:x'))).toEqual([a2, b2]);
      const sorted = (type: Frame['type']) => frames.filter((f) => f.type === type).map((f) => f.data).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
      expect(sorted('messages:updated')).toEqual([{ mailbox: 'a', read: true, count: 2 }, { mailbox: 'b', read: true, count: 2 }]);
      expect(sorted('message:deleted')).toEqual([
        { mailbox: 'a', ids: [a1] }, { mailbox: 'a', ids: [a2] }, { mailbox: 'b', ids: [b1] }, { mailbox: 'b', ids: [b2] }, { mailbox: 'c', ids: [c1] },
      ]);
    });

    it("tags: only the scope's messages are tagged, renamed or untagged; other mailboxes keep theirs", async () => {
      const [a1, b1, a2] = await seed(message('a1', 'a'), message('b1', 'b'), message('a2', 'a'));
      expect(await service.setTags(onlyA, [a1!, b1!], ['t'])).toEqual([a1]);
      expect((await store.summaryExtras([b1!])).get(b1!)?.tags).toEqual([]);
      await service.setTags(ALL_MAILBOXES, [b1!, a2!], ['t']);
      expect(await store.tagCounts(onlyA)).toEqual([{ name: 't', count: 2 }]);
      expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([{ name: 't', count: 3 }]);

      expect(await service.renameTag(onlyA, 't', 'u')).toBe(2);
      expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([{ name: 't', count: 1 }, { name: 'u', count: 2 }]);
      expect((await store.summaryExtras([b1!])).get(b1!)?.tags).toEqual(['t']);
      // Only the case: the shared spelling changes only when no other mailbox holds the tag.
      await service.renameTag(onlyA, 'u', 'U');
      expect(await store.tagCounts(onlyA)).toEqual([{ name: 'U', count: 2 }]);
      await service.setTags(ALL_MAILBOXES, [b1!], ['U']);
      await service.renameTag(onlyA, 'U', 'u');
      expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([{ name: 'U', count: 3 }]);

      expect(await service.deleteTag(onlyA, 'U')).toBe(2);
      expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([{ name: 'U', count: 1 }]);
      expect(await store.tagCounts(onlyA)).toEqual([]);
    });

    it("prune counts and deletes only the scope's messages", async () => {
      const [a1, b1, , b2] = await seed(message('a1', 'a'), message('b1', 'b'), message('a2', 'a'), message('b2', 'b'));
      expect(await service.prune(onlyA, { maxMessages: 1 })).toEqual([a1]);
      expect(await service.prune(onlyA, { receivedBefore: Number.MAX_SAFE_INTEGER, maxMessages: null })).toHaveLength(1);
      expect((await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 })).messages.map((m) => m.id)).toEqual([b2, b1]);
    });

    it("the store's clear and delete honour the scope too", async () => {
      const [a1, b1] = await seed(message('a1', 'a'), message('b1', 'b'), message('a2', 'a'));
      expect(await store.delete(onlyA, b1!)).toBe(false);
      expect(await store.delete(onlyA, a1!)).toBe(true);
      expect(await store.clear(onlyA)).toBe(1);
      expect((await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 })).messages.map((m) => m.id)).toEqual([b1]);
      expect(await store.clear(onlyMailboxes([]))).toBe(0);
      expect(await store.clear(ALL_MAILBOXES)).toBe(1);
    });
  });
});
