/**
 * The MessageStore contract (src/store/types.ts) as one suite, run against every store (issue 20):
 * `describeMessageStoreContract(name, open)` registers its tests for the store `open` makes. It
 * speaks only through the interface (no SQL, no store's own helpers), so what passes on SQLite and
 * on PostgreSQL behaves the same for Kotak. Read-only checks share one seeded store (the corpus of
 * ./corpus.ts); every write gets a fresh, empty store.
 *
 * For every search, the waiters' in-memory matcher (src/mail/search-match.ts) is checked against
 * the store's answer wherever it claims to decide, since waiters trust it instead of the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KotakError, type ErrorCode } from '../../src/errors.js';
import { newMessageId } from '../../src/mail/id.js';
import { ALL_MAILBOXES, onlyMailboxes, type MailboxScope } from '../../src/mail/mailbox-scope.js';
import { matchSummary } from '../../src/mail/search-match.js';
import { EMPTY_QUERY, parseSearchQuery } from '../../src/mail/search-query.js';
import { summarize } from '../../src/mail/summary.js';
import type { MessageSummary, NewMessage } from '../../src/mail/types.js';
import type { MessageStore } from '../../src/store/types.js';
import { newMessageFromRaw, rawMessage } from '../helpers/new-message.js';
import { BASE, CORPUS, DAY, NAMES, searchCases, type CorpusMessage } from './corpus.js';
import { describeNarrowingContract } from './narrowing-contract.js';

/** A store made for the suite. */
export interface OpenedStore {
  readonly store: MessageStore;
  /** Closes the store (`store.close()`) and releases what `open` made for it (files, a database). */
  close(): Promise<void>;
}

export type OpenStore = () => Promise<OpenedStore>;

const q = parseSearchQuery;
const W3 = onlyMailboxes(['w3']);
const NOTHING = onlyMailboxes([]);

/** A fresh store for one test, closed whatever the test does. */
export async function withStore(open: OpenStore, test: (store: MessageStore) => Promise<void>): Promise<void> {
  const opened = await open();
  try {
    await test(opened.store);
  } finally {
    await opened.close();
  }
}

/** A small message with a subject and body, in a mailbox, at a time. */
function simple(subject: string, options: { mailbox?: string; at?: number; body?: string; from?: string } = {}): Promise<NewMessage> {
  return newMessageFromRaw(rawMessage([`From: ${options.from ?? 'sender@example.test'}`, 'To: rcpt@example.test', `Subject: ${subject}`, '', options.body ?? 'body text']), {
    mailbox: options.mailbox ?? 'default',
    receivedAt: options.at ?? BASE,
  });
}

/** Inserts one after another, so that insertion order (the lists' order) is theirs. */
async function insertInOrder(store: MessageStore, messages: readonly NewMessage[]): Promise<MessageSummary[]> {
  const summaries: MessageSummary[] = [];
  for (const message of messages) summaries.push(await store.insert(message));
  return summaries;
}

/** The promise rejects with a KotakError of this code (how the API tells a client what it got wrong). */
async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected a KotakError '${code}'`).toBeInstanceOf(KotakError);
  expect((err as KotakError).code).toBe(code);
}

interface Seeded {
  readonly store: MessageStore;
  readonly close: () => Promise<void>;
  readonly messages: ReadonlyMap<string, NewMessage>;
  /** What insert() resolved to, by corpus name. */
  readonly inserted: ReadonlyMap<string, MessageSummary>;
  readonly idOf: (name: string) => string;
  readonly nameOf: (id: string) => string;
}

async function seed(open: OpenStore): Promise<Seeded> {
  const { store, close } = await open();
  const messages = new Map<string, NewMessage>();
  const inserted = new Map<string, MessageSummary>();
  // Among messages received at the same time, ids sort against insertion order: a store that
  // ordered ties by id instead of by insertion fails the ordering checks every time, not by chance.
  const ids = new Map<string, string>();
  for (const at of new Set(CORPUS.map((entry) => entry.receivedAt))) {
    const tied = CORPUS.filter((entry) => entry.receivedAt === at);
    const descending = tied.map(() => newMessageId(at)).sort().reverse();
    tied.forEach((entry, i) => ids.set(entry.name, descending[i]!));
  }
  for (const entry of CORPUS) {
    const message = await newMessageFromRaw(entry.raw, { id: ids.get(entry.name)!, mailbox: entry.mailbox, receivedAt: entry.receivedAt, envelope: entry.envelope ?? {} });
    messages.set(entry.name, message);
    inserted.set(entry.name, await store.insert(message));
  }
  const names = new Map([...messages].map(([name, message]) => [message.id, name]));
  const idOf = (name: string) => messages.get(name)!.id;
  for (const entry of CORPUS) {
    if (entry.tags) await store.setTags([idOf(entry.name)], entry.tags);
    if (entry.read) await store.setRead(ALL_MAILBOXES, idOf(entry.name), true);
  }
  return { store, close, messages, inserted, idOf, nameOf: (id) => names.get(id) ?? `unknown ${id}` };
}

const corpusEntry = (name: string): CorpusMessage => CORPUS.find((entry) => entry.name === name)!;
const inScopeNames = (names: readonly string[], scope: MailboxScope) =>
  names.filter((name) => scope.kind === 'all' || scope.mailboxes.includes(corpusEntry(name).mailbox));
/** Newest insert first, as lists show them. */
const newestFirst = (names: readonly string[]) => NAMES.filter((name) => names.includes(name)).reverse();
const oldestFirst = (names: readonly string[]) => NAMES.filter((name) => names.includes(name));

export function describeMessageStoreContract(name: string, open: OpenStore): void {
  describe(`MessageStore contract: ${name}`, () => {
    describe('a seeded store (read only)', () => {
      let s: Seeded;
      const names = (list: readonly MessageSummary[]) => list.map((m) => s.nameOf(m.id));
      beforeAll(async () => {
        s = await seed(open);
      });
      afterAll(async () => {
        await s?.close();
      });

      it('insert resolves to the summary of what was stored: summarize(message), unread and untagged', () => {
        for (const [entryName, message] of s.messages) {
          expect(s.inserted.get(entryName), entryName).toEqual(summarize(message));
        }
        const shipped = s.inserted.get('shipped')!;
        expect(shipped).toMatchObject({ mailbox: 'default', read: false, tags: [], hasAttachments: true, size: corpusEntry('shipped').raw.length });
        expect(s.inserted.get('welcome')!.messageId).toBe('abc.123@mail.example.com');
        expect(s.inserted.get('welcome')!.receivedAt).toBe('2026-11-20T12:00:00.000Z');
      });

      it('lists everything newest insert first; equal receivedAt (the ties) stay in insertion order', async () => {
        const page = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 100 });
        expect(names(page.messages)).toEqual([...NAMES].reverse());
        expect(page).toMatchObject({ total: NAMES.length, totalIsLowerBound: false, nextCursor: null, prevCursor: null });
        expect(names(page.messages).slice(0, 3)).toEqual(['tie3', 'tie2', 'tie1']);
        // The list's summaries carry the state set after insert: read flags and tags (sorted by name, case aside).
        const byName = new Map(page.messages.map((m) => [s.nameOf(m.id), m]));
        expect(byName.get('welcome')).toMatchObject({ read: true, tags: ['Important'] });
        expect(byName.get('shipped')).toMatchObject({ read: false, tags: ['Important', 'shipping'] });
        expect(byName.get('koeln')).toMatchObject({ read: true, tags: ['w3-only'] });
        for (const summary of page.messages) {
          expect(summary, s.nameOf(summary.id)).toEqual({ ...s.inserted.get(s.nameOf(summary.id))!, read: summary.read, tags: summary.tags });
        }
      });

      it('pages with nextCursor to the end and back with prevCursor, null at both ends', async () => {
        const pages: MessageSummary[][] = [];
        let page = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 4 });
        expect(page.prevCursor).toBeNull();
        pages.push(page.messages);
        while (page.nextCursor !== null) {
          page = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 4, cursor: page.nextCursor });
          expect(page.total).toBe(NAMES.length);
          expect(page.prevCursor).not.toBeNull();
          pages.push(page.messages);
        }
        expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 3]);
        expect(names(pages.flat())).toEqual([...NAMES].reverse());
        // Back from the oldest page, each page as it was.
        const back: MessageSummary[][] = [page.messages];
        while (page.prevCursor !== null) {
          page = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 4, after: page.prevCursor });
          expect(page.nextCursor).not.toBeNull();
          back.unshift(page.messages);
        }
        expect(names(back.flat())).toEqual([...NAMES].reverse());
        expect(names(back[0]!)).toEqual([...NAMES].reverse().slice(0, 4));
      });

      it('a page that ends exactly at the last match has no nextCursor', async () => {
        const whole = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: NAMES.length });
        expect(whole.messages).toHaveLength(NAMES.length);
        expect(whole.nextCursor).toBeNull();
        const searched = await s.store.list(ALL_MAILBOXES, { query: q('tiebreak'), limit: 3, boundedTotal: true });
        expect({ names: names(searched.messages), next: searched.nextCursor, total: searched.total }).toEqual({ names: ['tie3', 'tie2', 'tie1'], next: null, total: 3 });
        const last = await s.store.list(ALL_MAILBOXES, { query: q('tiebreak'), limit: 1, after: '0' });
        expect({ names: names(last.messages), next: last.nextCursor }).toEqual({ names: ['tie1'], next: null });
      });

      it("after '0' gives the oldest page, shown newest first", async () => {
        const page = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 4, after: '0' });
        expect(names(page.messages)).toEqual(['koeln', 'shipped', 'confirmation', 'welcome']);
        expect(page.nextCursor).toBeNull();
        expect(page.prevCursor).not.toBeNull();
        const newer = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 4, after: page.prevCursor });
        expect(names(newer.messages)).toEqual(['lower', 'fold', 'signup', 'cjk']);
      });

      for (const [label, query] of [
        ['a flag', 'is:unread'],
        ['a word (read from the full-text index)', 'tiebreak'],
        ['a field substring', 'from:example.test'],
        ['a negated word', '-confirm'],
      ] as const) {
        it(`pages a search by ${label} both ways`, async () => {
          const all = (await s.store.list(ALL_MAILBOXES, { query: q(query), limit: 100 })).messages.map((m) => m.id);
          expect(all.length).toBeGreaterThan(2);
          const seen: string[] = [];
          let page = await s.store.list(ALL_MAILBOXES, { query: q(query), limit: 2 });
          expect(page.prevCursor).toBeNull();
          seen.push(...page.messages.map((m) => m.id));
          while (page.nextCursor !== null) {
            page = await s.store.list(ALL_MAILBOXES, { query: q(query), limit: 2, cursor: page.nextCursor });
            expect(page.total).toBe(all.length);
            seen.push(...page.messages.map((m) => m.id));
          }
          expect(seen).toEqual(all);
          const back: string[] = page.messages.map((m) => m.id);
          while (page.prevCursor !== null) {
            page = await s.store.list(ALL_MAILBOXES, { query: q(query), limit: 2, after: page.prevCursor });
            back.unshift(...page.messages.map((m) => m.id));
          }
          expect(back).toEqual(all);
        });
      }

      it('start skips matches from the newest (or from the cursor), and is refused with after', async () => {
        const reversed = [...NAMES].reverse();
        const jumped = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3, start: 2 });
        expect(names(jumped.messages)).toEqual(reversed.slice(2, 5));
        expect(jumped.total).toBe(NAMES.length);
        expect(jumped.prevCursor).not.toBeNull();
        expect(jumped.nextCursor).not.toBeNull();
        const before = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3, after: jumped.prevCursor });
        expect(names(before.messages)).toEqual(reversed.slice(0, 2));
        const next = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3, cursor: jumped.nextCursor, start: 1 });
        expect(names(next.messages)).toEqual(reversed.slice(6, 9));
        const unread = newestFirst(NAMES.filter((n) => !corpusEntry(n).read));
        for (const boundedTotal of [false, true]) {
          const searched = await s.store.list(ALL_MAILBOXES, { query: q('is:unread'), limit: 2, start: 3, boundedTotal });
          expect({ names: names(searched.messages), total: searched.total }).toEqual({ names: unread.slice(3, 5), total: unread.length });
          expect(searched.prevCursor).not.toBeNull();
          const words = await s.store.list(ALL_MAILBOXES, { query: q('tiebreak'), limit: 1, start: 1, boundedTotal });
          expect({ names: names(words.messages), total: words.total }).toEqual({ names: ['tie2'], total: 3 });
        }
        const past = await s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3, start: NAMES.length });
        expect(past).toMatchObject({ messages: [], total: NAMES.length, nextCursor: null });
        await rejectsWithCode(s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3, start: 1, after: '0' }), 'invalid_request');
      });

      it('refuses a cursor it did not issue', async () => {
        await rejectsWithCode(s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3, cursor: 'not-a-cursor' }), 'invalid_request');
        await rejectsWithCode(s.store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3, after: "1'; --" }), 'invalid_request');
      });

      it('find: oldest first, since (inclusive), among ids, up to a limit', async () => {
        expect(names(await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 100 }))).toEqual(NAMES);
        expect(names(await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 3 }))).toEqual(NAMES.slice(0, 3));
        expect(names(await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, since: BASE + 4 * DAY, limit: 100 }))).toEqual(['nul', 'latin1', 'inline', 'long', 'tie1', 'tie2', 'tie3']);
        expect(names(await s.store.find(ALL_MAILBOXES, { query: q('tiebreak'), since: BASE + 6 * DAY, limit: 2 }))).toEqual(['tie1', 'tie2']);
        const ids = ['tie2', 'welcome', 'koeln'].map(s.idOf);
        expect(names(await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, ids, limit: 100 }))).toEqual(['welcome', 'koeln', 'tie2']);
        expect(names(await s.store.find(ALL_MAILBOXES, { query: q('is:read'), ids, limit: 100 }))).toEqual(['welcome', 'koeln']);
        expect(names(await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, ids: [...ids, 'no-such-id'], since: BASE + DAY, limit: 100 }))).toEqual(['koeln', 'tie2']);
        expect(await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, ids: [], limit: 100 })).toEqual([]);
        expect(names(await s.store.find(W3, { query: EMPTY_QUERY, ids, limit: 100 }))).toEqual(['koeln']);
        expect(await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, since: BASE + 7 * DAY, limit: 100 })).toEqual([]);
      });

      it('get: the summary with everything parsed, the envelope and the route; null when absent or out of scope', async () => {
        for (const [entryName, message] of s.messages) {
          const detail = (await s.store.get(ALL_MAILBOXES, message.id))!;
          const parsed = message.parsed.ok ? message.parsed.message : null;
          expect(detail, entryName).not.toBeNull();
          const list = (await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, ids: [message.id], limit: 1 }))[0]!;
          expect(detail, entryName).toMatchObject(list);
          expect(detail.text, entryName).toBe(parsed!.text);
          expect(detail.html, entryName).toBe(parsed!.html);
          expect(detail.headers, entryName).toEqual(parsed!.headers);
          expect(detail.attachments, entryName).toEqual(parsed!.attachments);
          expect(detail.replyTo, entryName).toEqual(parsed!.replyTo);
          expect(detail.envelope, entryName).toEqual(message.envelope);
          expect(detail.route, entryName).toEqual({ mailbox: message.mailbox, rule: 'default' });
          expect(detail.date, entryName).toBe(parsed!.date === null ? null : new Date(parsed!.date).toISOString());
          expect(detail.parseError, entryName).toBeUndefined();
        }
        const welcome = (await s.store.get(ALL_MAILBOXES, s.idOf('welcome')))!;
        expect(welcome.date).toBe('2026-11-20T12:00:00.000Z');
        const shipped = (await s.store.get(ALL_MAILBOXES, s.idOf('shipped')))!;
        expect(shipped.replyTo).toEqual([{ name: 'Support', address: 'support@shop.test' }]);
        expect(shipped.attachments).toMatchObject([{ filename: 'invoice-2026-11.pdf', contentType: 'application/pdf', inline: false }]);
        expect((await s.store.get(ALL_MAILBOXES, s.idOf('koeln')))!.html).toBe('<p>Besuchen Sie das <b>Café</b></p>');
        // NULs: U+FFFD in the summary's fields, the bytes as decoded in the text and the header list.
        const nul = (await s.store.get(ALL_MAILBOXES, s.idOf('nul')))!;
        expect(nul.subject).toBe('abc\uFFFDdef');
        expect(nul.from).toEqual({ name: 'Ann B\uFFFDee', address: 'nul@x.test' });
        expect(nul.text).toBe('before\0after \u2603snowman');
        expect(nul.headers).toContainEqual({ name: 'Subject', value: 'abc\0def' });
        expect((await s.store.get(ALL_MAILBOXES, s.idOf('latin1')))!.text).toContain('Grüße aus Düsseldorf');
        expect((await s.store.get(ALL_MAILBOXES, s.idOf('signup')))!.envelope.user).toBe('ci-bot');
        expect(await s.store.get(ALL_MAILBOXES, 'no-such-id')).toBeNull();
        expect(await s.store.get(W3, s.idOf('welcome'))).toBeNull();
        expect(await s.store.get(NOTHING, s.idOf('koeln'))).toBeNull();
        expect((await s.store.get(W3, s.idOf('koeln')))?.subject).toBe('Grüße aus KÖLN');
      });

      it('getRaw: every message byte for byte (8-bit, NUL and 0xFF bytes too); null when absent or out of scope', async () => {
        for (const [entryName, message] of s.messages) {
          const raw = await s.store.getRaw(ALL_MAILBOXES, message.id);
          expect(raw, entryName).toBeInstanceOf(Buffer);
          expect(raw!.equals(corpusEntry(entryName).raw), entryName).toBe(true);
        }
        const latin1 = await s.store.getRaw(ALL_MAILBOXES, s.idOf('latin1'));
        expect(latin1!.includes(Buffer.from([0xff, 0x00]))).toBe(true);
        expect(await s.store.getRaw(ALL_MAILBOXES, 'no-such-id')).toBeNull();
        expect(await s.store.getRaw(W3, s.idOf('latin1'))).toBeNull();
        expect(await s.store.getRaw(NOTHING, s.idOf('koeln'))).toBeNull();
      });

      it('stats: kept counts and raw bytes, within the scope', async () => {
        const sizeOf = (list: readonly string[]) => list.reduce((sum, n) => sum + corpusEntry(n).raw.length, 0);
        const unread = (list: readonly string[]) => list.filter((n) => !corpusEntry(n).read).length;
        expect(await s.store.stats(ALL_MAILBOXES)).toEqual({ total: NAMES.length, unread: unread(NAMES), size: sizeOf(NAMES) });
        expect(await s.store.stats(W3)).toEqual({ total: 2, unread: 1, size: sizeOf(['koeln', 'cjk']) });
        const twoBoxes = onlyMailboxes(['w3', 'other', 'never-used']);
        expect(await s.store.stats(twoBoxes)).toEqual({ total: 3, unread: 2, size: sizeOf(['koeln', 'cjk', 'inline']) });
        expect(await s.store.stats(NOTHING)).toEqual({ total: 0, unread: 0, size: 0 });
      });

      it('mailboxCounts: one row per mailbox by name, within the scope', async () => {
        const row = (box: string) => {
          const members = NAMES.filter((n) => corpusEntry(n).mailbox === box);
          return { name: box, total: members.length, unread: members.filter((n) => !corpusEntry(n).read).length, size: members.reduce((sum, n) => sum + corpusEntry(n).raw.length, 0) };
        };
        expect(await s.store.mailboxCounts(ALL_MAILBOXES)).toEqual(['default', 'other', 'w3', 'w3.b_c-1'].map(row));
        expect(await s.store.mailboxCounts(onlyMailboxes(['w3.b_c-1', 'w3', 'never-used']))).toEqual(['w3', 'w3.b_c-1'].map(row));
        expect(await s.store.mailboxCounts(NOTHING)).toEqual([]);
      });

      it('listAt: pages by offset, newest first, with the total and unread counts of what matches', async () => {
        const reversed = [...NAMES].reverse();
        const first = await s.store.listAt(ALL_MAILBOXES, { query: EMPTY_QUERY, start: 0, limit: 5 });
        expect(names(first.messages)).toEqual(reversed.slice(0, 5));
        expect({ total: first.total, unread: first.unread }).toEqual({ total: NAMES.length, unread: NAMES.filter((n) => !corpusEntry(n).read).length });
        expect(names((await s.store.listAt(ALL_MAILBOXES, { query: EMPTY_QUERY, start: 12, limit: 5 })).messages)).toEqual(reversed.slice(12));
        expect((await s.store.listAt(ALL_MAILBOXES, { query: EMPTY_QUERY, start: 40, limit: 5 })).messages).toEqual([]);
        const w3 = await s.store.listAt(W3, { query: EMPTY_QUERY, start: 1, limit: 5 });
        expect({ names: names(w3.messages), total: w3.total, unread: w3.unread }).toEqual({ names: ['koeln'], total: 2, unread: 1 });
        const words = await s.store.listAt(ALL_MAILBOXES, { query: q('confirm'), start: 1, limit: 1 });
        expect({ names: names(words.messages), total: words.total, unread: words.unread }).toEqual({ names: ['confirmation'], total: 3, unread: 2 });
      });

      it('summaryExtras: tags, Reply-To, attachments and inline parts, the SMTP user; missing ids absent', async () => {
        const extras = await s.store.summaryExtras(['shipped', 'inline', 'signup', 'welcome'].map(s.idOf).concat(['no-such-id', s.idOf('shipped')]));
        expect([...extras.keys()].sort()).toEqual(['shipped', 'inline', 'signup', 'welcome'].map(s.idOf).sort());
        expect(extras.get(s.idOf('shipped'))).toEqual({
          tags: ['Important', 'shipping'],
          replyTo: [{ name: 'Support', address: 'support@shop.test' }],
          attachments: 1,
          inline: 0,
          user: null,
        });
        expect(extras.get(s.idOf('inline'))).toEqual({ tags: [], replyTo: [], attachments: 0, inline: 1, user: null });
        expect(extras.get(s.idOf('signup'))).toEqual({ tags: [], replyTo: [], attachments: 0, inline: 0, user: 'ci-bot' });
        expect(extras.get(s.idOf('welcome'))!.tags).toEqual(['Important']);
        expect((await s.store.summaryExtras([])).size).toBe(0);
      });

      it('tagCounts: every tag the scope holds, with how many hold it, by name', async () => {
        expect(await s.store.tagCounts(ALL_MAILBOXES)).toEqual([
          { name: 'Important', count: 2 },
          { name: 'shipping', count: 1 },
          { name: 'w3-only', count: 1 },
        ]);
        expect(await s.store.tagCounts(W3)).toEqual([{ name: 'w3-only', count: 1 }]);
        expect(await s.store.tagCounts(onlyMailboxes(['default']))).toEqual([
          { name: 'Important', count: 2 },
          { name: 'shipping', count: 1 },
        ]);
        expect(await s.store.tagCounts(NOTHING)).toEqual([]);
      });

      it("a scope leaves another mailbox's messages out of everything", async () => {
        const page = await s.store.list(W3, { query: EMPTY_QUERY, limit: 100 });
        expect(names(page.messages)).toEqual(['cjk', 'koeln']);
        expect(page.total).toBe(2);
        expect((await s.store.list(W3, { query: q('4242'), limit: 100 })).messages.map((m) => s.nameOf(m.id))).toEqual(['cjk']);
        expect((await s.store.list(W3, { query: q('kotak'), limit: 100 })).total).toBe(0);
        const none = await s.store.list(NOTHING, { query: EMPTY_QUERY, limit: 100 });
        expect(none).toMatchObject({ messages: [], total: 0, nextCursor: null, prevCursor: null });
        expect(await s.store.find(NOTHING, { query: EMPTY_QUERY, limit: 100 })).toEqual([]);
        expect((await s.store.listAt(NOTHING, { query: EMPTY_QUERY, start: 0, limit: 10 })).total).toBe(0);
        const several = onlyMailboxes(['other', 'w3.b_c-1']);
        expect(names((await s.store.list(several, { query: EMPTY_QUERY, limit: 100 })).messages)).toEqual(['inline', 'signup']);
      });

      it('ping answers', async () => {
        await expect(s.store.ping()).resolves.toBeUndefined();
      });

      for (const [text, expected] of searchCases({ sizeOf: (n) => corpusEntry(n).raw.length })) {
        it(`search ${JSON.stringify(text)} finds ${expected.length === NAMES.length ? 'everything' : `[${expected.join(', ')}]`}; the matcher agrees where it decides`, async () => {
          const query = q(text);
          const page = await s.store.list(ALL_MAILBOXES, { query, limit: 100, boundedTotal: true });
          expect(names(page.messages), 'list').toEqual(newestFirst(expected));
          expect(page, 'list').toMatchObject({ total: expected.length, totalIsLowerBound: false, nextCursor: null, prevCursor: null });
          expect(names(await s.store.find(ALL_MAILBOXES, { query, limit: 100 })), 'find').toEqual(oldestFirst(expected));
          const offset = await s.store.listAt(ALL_MAILBOXES, { query, start: 0, limit: 100 });
          expect({ names: names(offset.messages), total: offset.total, unread: offset.unread }, 'listAt').toEqual({
            names: newestFirst(expected),
            total: expected.length,
            unread: expected.filter((n) => !corpusEntry(n).read).length,
          });
          const scope = onlyMailboxes(['w3', 'other']);
          expect(names((await s.store.list(scope, { query, limit: 100 })).messages), 'scoped list').toEqual(newestFirst(inScopeNames(expected, scope)));
          // The waiters' matcher, on the summaries as they are now (read, tags), wherever it claims to know.
          const everything = (await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 100 })) as MessageSummary[];
          const disagreements = everything.flatMap((summary) => {
            const verdict = matchSummary(query, summary);
            if (verdict === 'undecided') return [];
            const found = expected.includes(s.nameOf(summary.id));
            return (verdict === 'match') === found ? [] : [`${s.nameOf(summary.id)}: matcher ${verdict}, store ${found ? 'found' : 'did not find'}`];
          });
          expect(disagreements, 'matcher').toEqual([]);
        });
      }

      it('a query holding a NUL is refused before it reaches a store (a store is never asked to search for one)', () => {
        const err = (() => {
          try {
            q('subject:a\0b');
          } catch (e) {
            return e;
          }
          return null;
        })();
        expect(err).toBeInstanceOf(KotakError);
        expect((err as KotakError).code).toBe('invalid_query');
      });

      it('the matcher decides every search made only of terms a summary can answer', async () => {
        const everything = await s.store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 100 });
        const decidable = searchCases({ sizeOf: (n) => corpusEntry(n).raw.length })
          .map(([text]) => text)
          .filter((text) =>
            q(text).terms.every(
              (term) =>
                term.kind === 'date' ||
                term.kind === 'size' ||
                term.kind === 'mailbox' ||
                (term.kind === 'flag' && ['read', 'unread', 'attachment'].includes(term.flag)) ||
                (term.kind === 'field' && ['to', 'from', 'cc', 'bcc', 'subject', 'message-id'].includes(term.field)),
            ),
          );
        expect(decidable.length).toBeGreaterThan(60);
        const undecided = decidable.flatMap((text) => everything.filter((m) => matchSummary(q(text), m) === 'undecided').map((m) => `${text} on ${s.nameOf(m.id)}`));
        expect(undecided).toEqual([]);
      });
    });

    describeNarrowingContract(open);

    describe('writes (a fresh store each)', () => {
      it('insert: the summary resolves once readable everywhere; concurrent inserts all land; a taken id is refused', async () => {
        await withStore(open, async (store) => {
          const first = await simple('First arrival', { body: 'searchable uniqueword' });
          const summary = await store.insert(first);
          expect(summary).toEqual(summarize(first));
          // Readable at once, by every way in, including the full-text index.
          expect((await store.get(ALL_MAILBOXES, first.id))?.subject).toBe('First arrival');
          expect((await store.list(ALL_MAILBOXES, { query: q('uniqueword'), limit: 5 })).messages.map((m) => m.id)).toEqual([first.id]);
          expect((await store.find(ALL_MAILBOXES, { query: q('subject:first'), limit: 5 })).map((m) => m.id)).toEqual([first.id]);
          const many = await Promise.all(Array.from({ length: 40 }, (_, i) => simple(`Burst ${i}`, { body: `burstword number${i}` })));
          const stored = await Promise.all(many.map((m) => store.insert(m)));
          expect(stored.map((m) => m.id)).toEqual(many.map((m) => m.id));
          expect((await store.stats(ALL_MAILBOXES)).total).toBe(41);
          expect((await store.list(ALL_MAILBOXES, { query: q('burstword'), limit: 100 })).total).toBe(40);
          expect((await store.list(ALL_MAILBOXES, { query: q('number17'), limit: 100 })).messages.map((m) => m.subject)).toEqual(['Burst 17']);
          const again = { ...(await simple('Second with the same id')), id: first.id };
          await expect(store.insert(again)).rejects.toThrow();
          expect((await store.get(ALL_MAILBOXES, first.id))?.subject).toBe('First arrival');
          expect((await store.stats(ALL_MAILBOXES)).total).toBe(41);
        });
      });

      it('insert keeps what a message was stored with: an unparsed one, its route rule, SMTP warnings', async () => {
        await withStore(open, async (store) => {
          const raw = Buffer.from('this is not\0 a message\r\n\xff', 'latin1');
          const unparsed: NewMessage = {
            id: (await simple('x')).id,
            mailbox: 'broken',
            routeRule: '*@broken.test',
            receivedAt: BASE,
            envelope: { mailFrom: 'bounce@example.test', rcptTo: ['a@broken.test'], clientAddress: '127.0.0.1', heloName: 'h', user: 'smtp-user', tls: true, smtpWarnings: ['bare-lf'] },
            raw,
            parsed: { ok: false, error: 'the parser timed out' },
          };
          const summary = await store.insert(unparsed);
          expect(summary).toEqual(summarize(unparsed));
          expect(summary.from).toEqual({ name: '', address: 'bounce@example.test' });
          const detail = (await store.get(ALL_MAILBOXES, unparsed.id))!;
          expect(detail).toMatchObject({ parseError: 'the parser timed out', route: { mailbox: 'broken', rule: '*@broken.test' }, smtpWarnings: ['bare-lf'], text: null, html: null, headers: [], attachments: [] });
          const { smtpWarnings: _, ...envelope } = unparsed.envelope;
          expect(detail.envelope).toEqual(envelope);
          expect((await store.getRaw(ALL_MAILBOXES, unparsed.id))!.equals(raw)).toBe(true);
          expect((await store.summaryExtras([unparsed.id])).get(unparsed.id)?.user).toBe('smtp-user');
        });
      });

      it('getRaw returns a large message (300 KB) byte for byte', async () => {
        await withStore(open, async (store) => {
          const line = `${'0123456789abcdef'.repeat(4)}\xe9\x00\xff`;
          const body = Array.from({ length: 4500 }, (_, i) => `${i} ${line}`).join('\r\n');
          const raw = Buffer.concat([Buffer.from('From: big@example.test\r\nTo: b@example.test\r\nSubject: Big one\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n', 'latin1'), Buffer.from(body, 'latin1')]);
          expect(raw.length).toBeGreaterThan(300_000);
          const message = await newMessageFromRaw(raw);
          const summary = await store.insert(message);
          expect(summary.size).toBe(raw.length);
          expect((await store.getRaw(ALL_MAILBOXES, message.id))!.equals(raw)).toBe(true);
          expect((await store.stats(ALL_MAILBOXES)).size).toBe(raw.length);
          expect((await store.list(ALL_MAILBOXES, { query: q('"big one"'), limit: 5 })).messages.map((m) => m.id)).toEqual([message.id]);
        });
      });

      it('setRead: the updated summary, counts kept; null when absent or out of scope', async () => {
        await withStore(open, async (store) => {
          const [a, b] = await insertInOrder(store, [await simple('A'), await simple('B', { mailbox: 'w3' })]);
          const read = await store.setRead(ALL_MAILBOXES, a!.id, true);
          expect(read).toEqual({ ...a, read: true });
          expect(await store.stats(ALL_MAILBOXES)).toMatchObject({ total: 2, unread: 1 });
          // The same again changes nothing and still answers with the summary.
          expect(await store.setRead(ALL_MAILBOXES, a!.id, true)).toEqual({ ...a, read: true });
          expect(await store.stats(ALL_MAILBOXES)).toMatchObject({ unread: 1 });
          expect(await store.setRead(W3, a!.id, false)).toBeNull();
          expect((await store.get(ALL_MAILBOXES, a!.id))?.read).toBe(true);
          expect(await store.setRead(ALL_MAILBOXES, 'no-such-id', true)).toBeNull();
          expect(await store.setRead(W3, b!.id, true)).toMatchObject({ id: b!.id, read: true });
          expect(await store.mailboxCounts(ALL_MAILBOXES)).toEqual([
            { name: 'default', total: 1, unread: 0, size: a!.size },
            { name: 'w3', total: 1, unread: 0, size: b!.size },
          ]);
          expect(await store.setRead(ALL_MAILBOXES, a!.id, false)).toEqual(a);
          expect((await store.list(ALL_MAILBOXES, { query: q('is:unread'), limit: 5 })).messages.map((m) => m.id)).toEqual([a!.id]);
        });
      });

      it('setReadMatching: counts only the messages it changed, by mailbox, within the scope', async () => {
        await withStore(open, async (store) => {
          const m = await insertInOrder(store, [
            await simple('alpha one'),
            await simple('alpha two'),
            await simple('beta three'),
            await simple('alpha four', { mailbox: 'w3' }),
            await simple('beta five', { mailbox: 'w3' }),
            await simple('alpha six', { mailbox: 'w4' }),
          ]);
          await store.setRead(ALL_MAILBOXES, m[0]!.id, true);
          expect(Object.fromEntries(await store.setReadMatching(onlyMailboxes(['default', 'w3']), q('alpha'), true))).toEqual({ default: 1, w3: 1 });
          expect((await store.get(ALL_MAILBOXES, m[5]!.id))?.read).toBe(false);
          expect((await store.setReadMatching(ALL_MAILBOXES, q('alpha -mailbox:w4'), true)).size).toBe(0);
          expect(Object.fromEntries(await store.setReadMatching(ALL_MAILBOXES, EMPTY_QUERY, true))).toEqual({ default: 1, w3: 1, w4: 1 });
          expect(await store.stats(ALL_MAILBOXES)).toMatchObject({ unread: 0 });
          expect(Object.fromEntries(await store.setReadMatching(W3, EMPTY_QUERY, false))).toEqual({ w3: 2 });
          expect(Object.fromEntries(await store.setReadMatching(ALL_MAILBOXES, q('subject:beta'), false))).toEqual({ default: 1 });
          expect((await store.mailboxCounts(ALL_MAILBOXES)).map((c) => [c.name, c.unread])).toEqual([['default', 1], ['w3', 2], ['w4', 0]]);
          expect((await store.setReadMatching(NOTHING, EMPTY_QUERY, true)).size).toBe(0);
        });
      });

      it('delete: true once, then false; out of scope it is false and the message stays', async () => {
        await withStore(open, async (store) => {
          const [a, b] = await insertInOrder(store, [await simple('Delete me', { body: 'vanishing' }), await simple('Keep me', { mailbox: 'w3' })]);
          expect(await store.delete(W3, a!.id)).toBe(false);
          expect(await store.get(ALL_MAILBOXES, a!.id)).not.toBeNull();
          expect(await store.delete(ALL_MAILBOXES, a!.id)).toBe(true);
          expect(await store.delete(ALL_MAILBOXES, a!.id)).toBe(false);
          expect(await store.get(ALL_MAILBOXES, a!.id)).toBeNull();
          expect(await store.getRaw(ALL_MAILBOXES, a!.id)).toBeNull();
          expect((await store.list(ALL_MAILBOXES, { query: q('vanishing'), limit: 5 })).total).toBe(0);
          expect(await store.stats(ALL_MAILBOXES)).toEqual({ total: 1, unread: 1, size: b!.size });
          expect(await store.delete(ALL_MAILBOXES, 'no-such-id')).toBe(false);
        });
      });

      it('deleteMatching: the deleted messages oldest first with their mailboxes, within the scope', async () => {
        await withStore(open, async (store) => {
          const m = await insertInOrder(store, [
            await simple('gone one', { body: 'sweepword' }),
            await simple('kept two'),
            await simple('gone three', { mailbox: 'w3', body: 'sweepword' }),
            await simple('gone four', { body: 'sweepword' }),
            await simple('gone five', { mailbox: 'w4', body: 'sweepword' }),
          ]);
          expect(await store.deleteMatching(onlyMailboxes(['default', 'w3']), q('sweepword'))).toEqual([
            { id: m[0]!.id, mailbox: 'default' },
            { id: m[2]!.id, mailbox: 'w3' },
            { id: m[3]!.id, mailbox: 'default' },
          ]);
          expect((await store.list(ALL_MAILBOXES, { query: q('sweepword'), limit: 10 })).messages.map((x) => x.id)).toEqual([m[4]!.id]);
          expect(await store.deleteMatching(ALL_MAILBOXES, q('nothingmatches'))).toEqual([]);
          expect(await store.deleteMatching(ALL_MAILBOXES, q('subject:gone'))).toEqual([{ id: m[4]!.id, mailbox: 'w4' }]);
          expect((await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 })).messages.map((x) => x.id)).toEqual([m[1]!.id]);
        });
      });

      it('clear: everything in scope, counted; emptied mailboxes keep their counts at zero', async () => {
        await withStore(open, async (store) => {
          await insertInOrder(store, [await simple('a'), await simple('b', { mailbox: 'w3' }), await simple('c', { mailbox: 'w3' }), await simple('d', { mailbox: 'w4' })]);
          expect(await store.clear(W3)).toBe(2);
          expect(await store.clear(W3)).toBe(0);
          expect((await store.mailboxCounts(ALL_MAILBOXES)).map((c) => [c.name, c.total, c.unread, c.size])).toEqual([
            ['default', 1, 1, expect.any(Number)],
            ['w3', 0, 0, 0],
            ['w4', 1, 1, expect.any(Number)],
          ]);
          expect(await store.clear(ALL_MAILBOXES)).toBe(2);
          expect(await store.stats(ALL_MAILBOXES)).toEqual({ total: 0, unread: 0, size: 0 });
          expect(await store.mailboxCounts(ALL_MAILBOXES)).toEqual(['default', 'w3', 'w4'].map((name) => ({ name, total: 0, unread: 0, size: 0 })));
          expect((await store.list(ALL_MAILBOXES, { query: q('body'), limit: 10 })).total).toBe(0);
          // Still a working store.
          const after = await simple('after the clear', { body: 'phoenix' });
          await store.insert(after);
          expect((await store.list(ALL_MAILBOXES, { query: q('phoenix'), limit: 10 })).messages.map((x) => x.id)).toEqual([after.id]);
        });
      });

      it('prune: maxMessages keeps the newest of the scope, receivedBefore drops the older; deleted ones oldest first', async () => {
        await withStore(open, async (store) => {
          const d = await insertInOrder(store, await Promise.all([0, 1, 2, 3, 4].map((i) => simple(`default ${i}`, { at: BASE + i * DAY }))));
          const w = await insertInOrder(store, await Promise.all([0, 1, 2].map((i) => simple(`w3 ${i}`, { mailbox: 'w3', at: BASE + i * DAY }))));
          const removed = (list: readonly MessageSummary[]) => list.map((x) => ({ id: x.id, mailbox: x.mailbox }));
          expect(await store.prune(onlyMailboxes(['default']), {})).toEqual([]);
          expect(await store.prune(onlyMailboxes(['default']), { maxMessages: 10 })).toEqual([]);
          expect(await store.prune(onlyMailboxes(['default']), { maxMessages: 2 })).toEqual(removed(d.slice(0, 3)));
          expect((await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10 })).messages.map((x) => x.id)).toEqual([...w].reverse().concat([d[4]!, d[3]!]).map((x) => x.id));
          // Either limit deletes: w3's first by time, its second by count.
          expect(await store.prune(W3, { maxMessages: 1, receivedBefore: BASE + DAY })).toEqual(removed(w.slice(0, 2)));
          expect(await store.prune(ALL_MAILBOXES, { receivedBefore: BASE + 4 * DAY, maxMessages: null })).toEqual(removed([d[3]!, w[2]!]));
          expect(await store.prune(ALL_MAILBOXES, { maxMessages: 0 })).toEqual(removed([d[4]!]));
          expect(await store.stats(ALL_MAILBOXES)).toEqual({ total: 0, unread: 0, size: 0 });
        });
      });

      it('setTags: replaces a message\'s tags (empty clears), one spelling per tag; returns the ids that exist', async () => {
        await withStore(open, async (store) => {
          const [a, b, c] = await insertInOrder(store, [await simple('a'), await simple('b'), await simple('c', { mailbox: 'w3' })]);
          expect((await store.setTags([a!.id, 'no-such-id', b!.id], ['Urgent', 'beta', 'URGENT'])).sort()).toEqual([a!.id, b!.id].sort());
          expect((await store.get(ALL_MAILBOXES, a!.id))?.tags).toEqual(['beta', 'Urgent']);
          // An existing tag keeps its spelling whoever names it.
          expect(await store.setTags([c!.id], ['urgent', 'Zeta'])).toEqual([c!.id]);
          expect((await store.get(ALL_MAILBOXES, c!.id))?.tags).toEqual(['Urgent', 'Zeta']);
          expect(await store.setTags([a!.id], ['zeta'])).toEqual([a!.id]);
          expect((await store.get(ALL_MAILBOXES, a!.id))?.tags).toEqual(['Zeta']);
          expect(await store.setTags([b!.id], [])).toEqual([b!.id]);
          expect((await store.get(ALL_MAILBOXES, b!.id))?.tags).toEqual([]);
          expect(await store.setTags(['no-such-id'], ['x'])).toEqual([]);
          expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([
            { name: 'Urgent', count: 1 },
            { name: 'Zeta', count: 2 },
          ]);
          expect((await store.list(ALL_MAILBOXES, { query: q('tag:zeta'), limit: 10 })).messages.map((x) => x.id)).toEqual([c!.id, a!.id]);
          expect((await store.list(ALL_MAILBOXES, { query: q('is:tagged'), limit: 10 })).total).toBe(2);
        });
      });

      it('insert with tags: written with the message (in the summary it answers, as stored), an existing tag keeping its spelling; batched inserts too', async () => {
        await withStore(open, async (store) => {
          const [first] = await insertInOrder(store, [await simple('first')]);
          await store.setTags([first!.id], ['Billing']);
          const tagged = { ...(await simple('tagged')), tags: ['billing', 'Zeta', 'alpha'] };
          const summary = await store.insert(tagged);
          expect(summary.tags).toEqual(['alpha', 'Billing', 'Zeta']);
          expect((await store.get(ALL_MAILBOXES, summary.id))?.tags).toEqual(['alpha', 'Billing', 'Zeta']);
          // Queued together, so a group commit writes them in one batch.
          const batch = await Promise.all([0, 1, 2].map(async (i) => store.insert({ ...(await simple(`batch ${i}`)), ...(i === 1 ? {} : { tags: [`t${i}`, 'ALPHA'] }) })));
          expect(batch.map((m) => m.tags)).toEqual([['alpha', 't0'], [], ['alpha', 't2']]);
          expect((await store.list(ALL_MAILBOXES, { query: q('tag:alpha'), limit: 10 })).messages.map((x) => x.id)).toEqual([batch[2]!.id, batch[0]!.id, summary.id]);
          expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([
            { name: 'alpha', count: 3 },
            { name: 'Billing', count: 2 },
            { name: 't0', count: 1 },
            { name: 't2', count: 1 },
            { name: 'Zeta', count: 1 },
          ]);
        });
      });

      it('changeTags: adds and removes in one go (a tag in both is removed); returns the ids that changed', async () => {
        await withStore(open, async (store) => {
          const [a, b, c] = await insertInOrder(store, [await simple('a'), await simple('b'), await simple('c')]);
          await store.setTags([a!.id], ['keep', 'drop']);
          await store.setTags([b!.id], ['keep']);
          const changed = await store.changeTags([a!.id, b!.id, c!.id, 'no-such-id'], ['New', 'both'], ['DROP', 'both']);
          expect(changed.sort()).toEqual([a!.id, b!.id, c!.id].sort());
          expect((await store.get(ALL_MAILBOXES, a!.id))?.tags).toEqual(['keep', 'New']);
          expect((await store.get(ALL_MAILBOXES, b!.id))?.tags).toEqual(['keep', 'New']);
          expect((await store.get(ALL_MAILBOXES, c!.id))?.tags).toEqual(['New']);
          // Nothing to change: nothing listed.
          expect(await store.changeTags([a!.id, c!.id], ['new'], ['absent'])).toEqual([]);
          expect(await store.changeTags([a!.id], [], [])).toEqual([]);
          expect(await store.changeTags([a!.id, c!.id], [], ['keep'])).toEqual([a!.id]);
          expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([
            { name: 'keep', count: 1 },
            { name: 'New', count: 3 },
          ]);
        });
      });

      it('renameTag: merges into an existing tag, changes case alone, and stays within the scope', async () => {
        await withStore(open, async (store) => {
          const [a, b, c, d] = await insertInOrder(store, [await simple('a'), await simple('b'), await simple('c', { mailbox: 'w3' }), await simple('d', { mailbox: 'w3' })]);
          await store.setTags([a!.id], ['old', 'target']);
          await store.setTags([b!.id, c!.id], ['old']);
          await store.setTags([d!.id], ['other']);
          expect(await store.renameTag(ALL_MAILBOXES, 'absent', 'x')).toBe(0);
          // Within w3 only: c moves, a and b keep 'old'.
          expect(await store.renameTag(W3, 'OLD', 'moved')).toBe(1);
          expect((await store.get(ALL_MAILBOXES, c!.id))?.tags).toEqual(['moved']);
          expect((await store.get(ALL_MAILBOXES, b!.id))?.tags).toEqual(['old']);
          // Into an existing tag: a holds both and keeps one.
          expect(await store.renameTag(ALL_MAILBOXES, 'old', 'Target')).toBe(2);
          expect((await store.get(ALL_MAILBOXES, a!.id))?.tags).toEqual(['target']);
          expect((await store.get(ALL_MAILBOXES, b!.id))?.tags).toEqual(['target']);
          // Only the case.
          expect(await store.renameTag(ALL_MAILBOXES, 'target', 'TARGET')).toBe(2);
          expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([
            { name: 'moved', count: 1 },
            { name: 'other', count: 1 },
            { name: 'TARGET', count: 2 },
          ]);
          expect(await store.renameTag(NOTHING, 'TARGET', 'x')).toBe(0);
          expect((await store.list(ALL_MAILBOXES, { query: q('tag:target'), limit: 10 })).total).toBe(2);
        });
      });

      it("deleteTag: removes a tag from the scope's messages, which stay; returns how many held it", async () => {
        await withStore(open, async (store) => {
          const [a, b, c] = await insertInOrder(store, [await simple('a'), await simple('b'), await simple('c', { mailbox: 'w3' })]);
          await store.setTags([a!.id, b!.id, c!.id], ['bulk', 'stay']);
          expect(await store.deleteTag(W3, 'BULK')).toBe(1);
          expect((await store.get(ALL_MAILBOXES, c!.id))?.tags).toEqual(['stay']);
          expect(await store.deleteTag(ALL_MAILBOXES, 'bulk')).toBe(2);
          expect(await store.deleteTag(ALL_MAILBOXES, 'bulk')).toBe(0);
          expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([{ name: 'stay', count: 3 }]);
          expect((await store.stats(ALL_MAILBOXES)).total).toBe(3);
          expect((await store.summaryExtras([a!.id])).get(a!.id)?.tags).toEqual(['stay']);
        });
      });

      it('a deleted message takes its tags with it: counts drop, and a new spelling starts afresh', async () => {
        await withStore(open, async (store) => {
          const [a, b] = await insertInOrder(store, [await simple('a'), await simple('b')]);
          await store.setTags([a!.id], ['Ephemeral']);
          await store.delete(ALL_MAILBOXES, a!.id);
          expect(await store.tagCounts(ALL_MAILBOXES)).toEqual([]);
          expect((await store.list(ALL_MAILBOXES, { query: q('is:tagged'), limit: 5 })).total).toBe(0);
          await store.setTags([b!.id], ['EPHEMERAL']);
          expect((await store.get(ALL_MAILBOXES, b!.id))?.tags).toEqual(['EPHEMERAL']);
        });
      });

      it('before:/after: today and yesterday are local midnights, compared with the time received', async () => {
        await withStore(open, async (store) => {
          const now = Date.now();
          const [old, recent] = await insertInOrder(store, [await simple('three days ago', { at: now - 3 * DAY }), await simple('just now', { at: now })]);
          const found = async (text: string) => (await store.find(ALL_MAILBOXES, { query: q(text), limit: 5 })).map((m) => m.id);
          expect(await found('after:today')).toEqual([recent!.id]);
          expect(await found('after:yesterday')).toEqual([recent!.id]);
          expect(await found('before:yesterday')).toEqual([old!.id]);
          expect(await found('before:today')).toEqual([old!.id]);
          for (const summary of [old!, recent!]) {
            for (const text of ['after:today', 'before:yesterday']) {
              expect(matchSummary(q(text), summary), `${text} on ${summary.subject}`).toBe((await found(text)).includes(summary.id) ? 'match' : 'no-match');
            }
          }
        });
      });

      it('lists in insertion order even when a later insert carries an earlier receivedAt (clocks of several nodes)', async () => {
        await withStore(open, async (store) => {
          const late = await simple('received first, stored last', { at: BASE });
          const early = await simple('received later, stored first', { at: BASE + DAY });
          await insertInOrder(store, [early, late]);
          expect((await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 5 })).messages.map((m) => m.id)).toEqual([late.id, early.id]);
          expect((await store.find(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 5 })).map((m) => m.id)).toEqual([early.id, late.id]);
          expect((await store.listAt(ALL_MAILBOXES, { query: q('subject:received'), start: 0, limit: 5 })).messages.map((m) => m.id)).toEqual([late.id, early.id]);
          // maxMessages keeps the newest by insertion too.
          expect(await store.prune(ALL_MAILBOXES, { maxMessages: 1 })).toEqual([{ id: early.id, mailbox: 'default' }]);
        });
      });

      it('boundedTotal: a search counts to a bound past its page (totalIsLowerBound); without terms, or unbounded, exactly', async () => {
        await withStore(open, async (store) => {
          const count = 1_100;
          const messages = await Promise.all(Array.from({ length: count }, (_, i) => simple(`common ${i}`, { body: 'commonword', at: BASE + i })));
          await Promise.all(messages.map((m) => store.insert(m)));
          const bounded = await store.list(ALL_MAILBOXES, { query: q('commonword'), limit: 10, boundedTotal: true });
          expect(bounded.messages).toHaveLength(10);
          expect(bounded.totalIsLowerBound).toBe(true);
          expect(bounded.total).toBeGreaterThanOrEqual(10);
          expect(bounded.total).toBeLessThan(count);
          const exact = await store.list(ALL_MAILBOXES, { query: q('commonword'), limit: 10 });
          expect({ total: exact.total, lower: exact.totalIsLowerBound }).toEqual({ total: count, lower: false });
          const kept = await store.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: 10, boundedTotal: true });
          expect({ total: kept.total, lower: kept.totalIsLowerBound }).toEqual({ total: count, lower: false });
          const few = await store.list(ALL_MAILBOXES, { query: q('subject:"common 10"'), limit: 10, boundedTotal: true });
          // "common 10", "common 100" to "common 109", "common 1000" to "common 1099".
          expect({ total: few.total, lower: few.totalIsLowerBound }).toEqual({ total: 111, lower: false });
          expect((await store.listAt(ALL_MAILBOXES, { query: q('commonword'), start: 1090, limit: 20 })).messages).toHaveLength(10);
        });
      });

      it('close: the store refuses new mail afterwards, and ping says it cannot answer', async () => {
        const { store, close } = await open();
        await store.insert(await simple('before close'));
        const late = await simple('after close');
        await close();
        await expect(store.insert(late)).rejects.toThrow();
        await expect(store.ping()).rejects.toThrow();
      });
    });
  });
}
