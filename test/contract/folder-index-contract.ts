/**
 * The store's IMAP part of the MessageStore contract (issue 21: folderIndex, flagsOf, setFlags,
 * uidValidity, highestSeq, initial flags), registered beside the main suite
 * (./message-store-contract.ts) for every store: through the interface only, a fresh store per test.
 */
import { describe, expect, it } from 'vitest';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import type { NewMessage } from '../../src/mail/types.js';
import type { MessageStore } from '../../src/store/types.js';
import { newMessageFromRaw, rawMessage } from '../helpers/new-message.js';
import { withStore, type OpenStore } from './message-store-contract.js';

const BASE = Date.UTC(2026, 0, 1);

function message(subject: string, mailbox = 'default', at = BASE): Promise<NewMessage> {
  return newMessageFromRaw(rawMessage(['From: a@example.test', 'To: b@example.test', `Subject: ${subject}`, '', `body ${subject}`]), { mailbox, receivedAt: at });
}

async function insertAll(store: MessageStore, messages: readonly NewMessage[]): Promise<string[]> {
  const ids: string[] = [];
  for (const m of messages) ids.push((await store.insert(m)).id);
  return ids;
}

export function describeFolderIndexContract(name: string, open: OpenStore): void {
  describe(`MessageStore contract, IMAP folders: ${name}`, () => {
    it('folderIndex: a mailbox oldest first, the newest `limit`, or those above a seq; entries carry size, time, flags and tags; nothing out of scope', () =>
      withStore(open, async (store) => {
        const messages = await Promise.all(['1', '2', '3', '4'].map((s, i) => message(s, 'box', BASE + i * 1000)));
        const ids = await insertAll(store, messages);
        await store.insert(await message('elsewhere', 'other'));
        await store.changeTags([ids[1]!], ['b-tag', 'A-tag'], []);
        const all = await store.folderIndex(ALL_MAILBOXES, 'box', { limit: 10 });
        expect(all.map((e) => e.id)).toEqual(ids);
        const seqs = all.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(4);
        expect(all[1]).toEqual({
          id: ids[1],
          mailbox: 'box',
          seq: seqs[1],
          size: messages[1]!.raw.length,
          receivedAt: BASE + 1000,
          read: false,
          flagged: false,
          deleted: false,
          tags: ['A-tag', 'b-tag'],
        });
        expect((await store.folderIndex(ALL_MAILBOXES, 'box', { limit: 2 })).map((e) => e.id)).toEqual(ids.slice(2));
        expect((await store.folderIndex(ALL_MAILBOXES, 'box', { afterSeq: seqs[0], limit: 10 })).map((e) => e.id)).toEqual(ids.slice(1));
        expect((await store.folderIndex(ALL_MAILBOXES, 'box', { afterSeq: seqs[0], limit: 1 })).map((e) => e.id)).toEqual(ids.slice(3));
        expect(await store.folderIndex(onlyMailboxes(['other']), 'box', { limit: 10 })).toEqual([]);
        expect(await store.folderIndex(ALL_MAILBOXES, 'no-such-box', { limit: 10 })).toEqual([]);
      }));

    it('setFlags: sets only what it is given, reports what changed, keeps the unread counts; flagsOf reads them back; out of scope untouched', () =>
      withStore(open, async (store) => {
        const [a, b] = await insertAll(store, [await message('a', 'box'), await message('b', 'box')]);
        const [c] = await insertAll(store, [await message('c', 'other')]);
        const changed = await store.setFlags(ALL_MAILBOXES, [a!, b!, 'no-such-id'], { flagged: true });
        expect(changed.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
          [
            { id: a, mailbox: 'box', read: null, marks: true },
            { id: b, mailbox: 'box', read: null, marks: true },
          ].sort((x, y) => x.id!.localeCompare(y.id!)),
        );
        expect(await store.setFlags(ALL_MAILBOXES, [a!], { flagged: true })).toEqual([]);
        expect(await store.setFlags(ALL_MAILBOXES, [a!], { read: true, flagged: true })).toEqual([{ id: a, mailbox: 'box', read: true, marks: false }]);
        expect(await store.setFlags(ALL_MAILBOXES, [a!], { deleted: true, read: true })).toEqual([{ id: a, mailbox: 'box', read: null, marks: true }]);
        expect(await store.setFlags(onlyMailboxes(['box']), [c!], { flagged: true, read: true })).toEqual([]);
        const flags = await store.flagsOf(ALL_MAILBOXES, [a!, b!, c!, 'no-such-id']);
        expect([...flags.keys()].sort()).toEqual([a, b, c].sort());
        expect(flags.get(a!)).toMatchObject({ read: true, flagged: true, deleted: true });
        expect(flags.get(b!)).toMatchObject({ read: false, flagged: true, deleted: false });
        expect(flags.get(c!)).toMatchObject({ read: false, flagged: false, deleted: false });
        expect([...(await store.flagsOf(onlyMailboxes(['other']), [a!, c!])).keys()]).toEqual([c]);
        expect((await store.mailboxCounts(ALL_MAILBOXES)).find((m) => m.name === 'box')).toMatchObject({ total: 2, unread: 1 });
        expect((await store.get(ALL_MAILBOXES, a!))!.read).toBe(true);
        // Unflagging and undeleting report too.
        expect(await store.setFlags(ALL_MAILBOXES, [a!], { flagged: false, deleted: false, read: false })).toEqual([{ id: a, mailbox: 'box', read: false, marks: true }]);
        expect((await store.mailboxCounts(ALL_MAILBOXES)).find((m) => m.name === 'box')).toMatchObject({ unread: 2 });
        // A deleted message's flags go with it.
        await store.delete(ALL_MAILBOXES, b!);
        expect((await store.flagsOf(ALL_MAILBOXES, [b!])).size).toBe(0);
      }));

    it('insert with initial flags (IMAP APPEND): stored read, flagged and deleted as given; the summary says read; counts agree', () =>
      withStore(open, async (store) => {
        const plain = await message('plain');
        const flagged: NewMessage = { ...(await message('flagged')), initialFlags: { read: true, flagged: true, deleted: false } };
        const deleted: NewMessage = { ...(await message('deleted')), initialFlags: { read: false, flagged: false, deleted: true } };
        const summaries = await Promise.all([store.insert(plain), store.insert(flagged), store.insert(deleted)]);
        expect(summaries.map((s) => s.read)).toEqual([false, true, false]);
        const flags = await store.flagsOf(ALL_MAILBOXES, summaries.map((s) => s.id));
        expect(summaries.map((s) => [flags.get(s.id)!.read, flags.get(s.id)!.flagged, flags.get(s.id)!.deleted])).toEqual([
          [false, false, false],
          [true, true, false],
          [false, false, true],
        ]);
        expect(await store.stats(ALL_MAILBOXES)).toMatchObject({ total: 3, unread: 2 });
      }));

    it('seqs are never given twice: a deleted newest message`s seq is not reused; highestSeq covers every seq given', () =>
      withStore(open, async (store) => {
        expect(await store.highestSeq()).toBe(0);
        const [, newest] = await insertAll(store, [await message('a'), await message('b')]);
        const newestSeq = (await store.flagsOf(ALL_MAILBOXES, [newest!])).get(newest!)!.seq;
        expect(await store.highestSeq()).toBe(newestSeq);
        await store.delete(ALL_MAILBOXES, newest!);
        expect(await store.highestSeq()).toBe(newestSeq);
        const [next] = await insertAll(store, [await message('c')]);
        const nextSeq = (await store.flagsOf(ALL_MAILBOXES, [next!])).get(next!)!.seq;
        expect(nextSeq).toBeGreaterThan(newestSeq);
        await store.clear(ALL_MAILBOXES);
        const [afterClear] = await insertAll(store, [await message('d')]);
        expect((await store.flagsOf(ALL_MAILBOXES, [afterClear!])).get(afterClear!)!.seq).toBeGreaterThan(nextSeq);
      }));

    it('uidValidity: one number in 1..2^31-1, the same every time it is asked', () =>
      withStore(open, async (store) => {
        const value = await store.uidValidity();
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(1);
        expect(value).toBeLessThanOrEqual(2 ** 31 - 1);
        await store.insert(await message('x'));
        expect(await store.uidValidity()).toBe(value);
      }));
  });
}
