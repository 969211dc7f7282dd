/**
 * The PostgreSQL store answers as the SQLite store does (issue 20): the same messages stored in
 * both (SQLite in memory, PostgreSQL on the harness server), then hundreds of searches (every
 * operator, alone, negated and combined; Unicode case and diacritics, CJK, Thai, punctuation, NULs
 * in bodies and file names, ties in received time) and every other method, compared whole:
 * same ids in the same order, same totals, same details, same counts.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES, onlyMailboxes, type MailboxScope } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery, type SearchQuery } from '../../src/mail/search-query.js';
import type { Address, AttachmentInfo, NewMessage } from '../../src/mail/types.js';
import { openPostgresStore } from '../../src/store/pg/message-store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { MessageStore } from '../../src/store/types.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });

/** Deterministic, so that a failure can be replayed. */
function randomSource(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const WORDS = [
  'confirm', 'confirmation', 'Confirmed', 'invoice', 'Invoice-2026', 'Straße', 'STRASSE', 'strasse', 'ÉCOLE', 'école', 'ecole', 'İstanbul', 'istanbul',
  'ISTANBUL', 'ılık', 'IŞIK', 'café', 'CAFE', 'naïve', 'user@example.com', 'ops+reset@corp.test', 'foo_bar', '100%', 'C++', 'e-mail', "don't", '注文確認',
  '注文', 'สวัสดีครับ', 'ครับ', '한국어', 'Ǆemal', 'ﬁle', 'Ωmega', 'ωmega', '😀', 'x²', 'Ⅻ', '①', 'résumé', 'RESUME', 'Zoë', 'ZOE', 'the', 'quick',
  'brown', 'fox', 'a_b', 'a%b', 'back\\slash', 'tab\there', 'über', 'UBER', 'ﬀ', 'Ａｂｃ', 'abc',
  'x'.repeat(70) + 'tail', 'x'.repeat(70),
];

const NAMES = ['Straße Müller', 'ÉCOLE Admin', 'İsmail', 'Zoë', '', 'Ops Team', '注文 係'];
const DOMAINS = ['example.com', 'corp.test', 'ÉCOLE.fr', 'shop.example'];
const MAILBOXES = ['default', 'w3', 'team'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function sentence(random: () => number, words: number): string {
  const separators = [' ', ' ', ' ', ', ', '. ', '\n', '-', '/'];
  let out = '';
  for (let i = 0; i < words; i++) out += (i ? pick(random, separators) : '') + pick(random, WORDS);
  return out;
}

function address(random: () => number, i: number): Address {
  const local = pick(random, ['user', 'ops+reset', 'Admin', 'zoë', 'billing', 'x_y']) + (i % 7);
  return { name: pick(random, NAMES), address: `${local}@${pick(random, DOMAINS)}` };
}

function corpus(count: number): NewMessage[] {
  const random = randomSource(20);
  const base = Date.UTC(2026, 10, 1, 12, 0, 0);
  const messages: NewMessage[] = [];
  for (let i = 0; i < count; i++) {
    const to = Array.from({ length: 1 + (i % 3) }, (_, k) => address(random, i + k));
    const cc = i % 4 === 0 ? [address(random, i + 5)] : [];
    const bcc = i % 9 === 0 ? [address(random, i + 6)] : [];
    const replyTo = i % 5 === 0 ? [address(random, i + 8)] : [];
    const from = i % 13 === 12 ? null : address(random, i + 3);
    let text: string | null = sentence(random, 3 + Math.floor(random() * 25));
    if (i % 17 === 3) text = `${sentence(random, 4)}\0after nul ${sentence(random, 4)}`; // short: SQLite keeps it as TEXT
    if (i % 17 === 4) text = `${sentence(random, 80)}\0${sentence(random, 80)} nulpackedword`; // long: SQLite packs it
    if (i % 29 === 5) text = `${'word '.repeat(60_000)}beyondthebound ${sentence(random, 3)}`; // past the index's 256 Ki characters
    if (i % 11 === 7) text = null;
    const html = i % 3 === 0 ? `<p>${sentence(random, 6)} <b>${pick(random, WORDS)}</b></p>${i % 6 === 0 ? '\0<i>htmlnul</i>' : ''}` : null;
    const attachments: AttachmentInfo[] = [];
    if (i % 4 === 1) attachments.push({ id: '2', filename: `${pick(random, WORDS)}.pdf`, contentType: 'application/pdf', size: 100 + i, contentId: null, inline: false });
    if (i % 8 === 2) attachments.push({ id: '3', filename: i % 16 === 2 ? `logo\0${pick(random, WORDS)}.png` : null, contentType: 'image/png', size: 20, contentId: 'c@x', inline: true });
    const subject = i % 10 === 9 ? '' : sentence(random, 1 + Math.floor(random() * 5));
    const messageId = i % 6 === 5 ? null : `${i}.${pick(random, ['abc', 'ÉCOLE', 'x_y', '100%'])}@${pick(random, DOMAINS)}`;
    const raw = Buffer.concat([
      Buffer.from(`Subject: ${subject}\r\nMessage-ID: <${messageId}>\r\n\r\n${text ?? ''}\r\n${'pad'.repeat(i * 7)}`),
      // Bytes that are no UTF-8: raw bytes are kept exactly.
      Buffer.from(i % 8 === 0 ? [0, 0xff, 0x80, 0xc3, 0x0d] : []),
    ]);
    const mailbox = MAILBOXES[i % MAILBOXES.length]!;
    messages.push({
      id: `m${String(i).padStart(4, '0')}${pick(random, ['a', 'b'])}`,
      mailbox,
      routeRule: mailbox === 'default' ? undefined : `*@${mailbox}.test`,
      // Ties: every three messages share a time.
      receivedAt: base + Math.floor(i / 3) * 3_600_000,
      envelope: {
        mailFrom: i % 12 === 0 ? '' : i % 19 === 0 ? 'bounce\0tail@ÉCOLE.fr' : `sender${i % 5}@${pick(random, DOMAINS)}`,
        rcptTo: [...to, ...bcc].map((a) => a.address).concat(i % 7 === 0 ? ['hidden@corp.test'] : []),
        clientAddress: '127.0.0.1',
        heloName: 'h',
        user: i % 6 === 0 ? 'smtp-user' : null,
        tls: i % 2 === 0,
        ...(i % 23 === 0 ? { smtpWarnings: ['bare-lf' as const] } : {}),
      },
      raw,
      parsed:
        i % 31 === 30
          ? { ok: false, error: 'parse failed: \0 bad' }
          : {
              ok: true,
              message: {
                from, to, cc, bcc, replyTo, subject, messageId, date: i % 4 === 0 ? null : base - i * 1000,
                text, html, htmlText: html ? html.replace(/<[^>]+>/g, ' ') : null,
                headers: [{ name: 'subject', value: subject }, { name: 'x-nul', value: 'a\0b' }],
                attachments,
                snippet: (text ?? '').slice(0, 80),
                ...(i % 37 === 1 ? { textCut: true as const } : {}),
              },
            },
    });
  }
  return messages;
}

function queries(messages: readonly NewMessage[]): string[] {
  const random = randomSource(7);
  const quote = (w: string) => `"${w}"`;
  const out = new Set<string>();
  const fields = ['subject', 'from', 'to', 'cc', 'bcc', 'reply-to', 'addressed', 'message-id', 'tag'];
  for (const word of WORDS) {
    const plain = word.replace(/[\s"]/g, '');
    if (!plain) continue;
    out.add(plain);
    out.add(quote(plain));
    out.add(`-${plain}`);
    out.add(plain.slice(0, 3));
    out.add(plain.toUpperCase());
    out.add(plain.toLowerCase());
    for (const field of fields) out.add(`${field}:${quote(plain)}`);
  }
  for (const q of [
    'is:read', 'is:unread', 'is:tagged', 'has:attachment', 'has:inline', '-is:read', '-has:attachment', '!is:tagged',
    'mailbox:w3', 'mailbox:team', '-mailbox:default', 'larger:1kb', 'smaller:200', 'larger:500 smaller:2000',
    'before:2026-11-02', 'after:2026-11-02T10:00:00Z', 'after:2026-11-01T12:00:00Z', 'before:2026-11-01T15:00:00Z', '-before:2026-11-03',
    'nulpackedword', 'after', '"after nul"', 'htmlnul', 'beyondthebound', 'word', 'logo', 'tail', 'bounce', 'smtp', 'sender1', 'hidden',
    'corp.test', 'example.com', 'ops+reset', '"the quick"', '"quick brown fox"', 'quick brown', '"confirm confirmation"',
    'to:ops+reset', 'from:müller', 'from:MÜLLER', 'to:école', 'addressed:école.fr', 'bcc:hidden', 'subject:%', 'subject:_', 'message-id:<3.',
    'message-id:100%', 'reply-to:zoë', '😀', '①', '+', '%', '@', '-', 'ไ', '注', '文確', '한', 'tag:Important', 'tag:important', 'tag:urgent', 'tag:ÉTÉ',
    'pdf', '.pdf', 'png', 'x²', 'xxx', 'ﬁ', 'fi', 'ff', 'abc', 'ǆemal', 'dzemal', 'ω', 'Ω',
  ]) out.add(q);
  // Phrases of adjacent words as stored.
  for (const message of messages.slice(0, 40)) {
    const text = message.parsed.ok ? (message.parsed.message.text ?? '') : '';
    const words = text.split(/\s+/).filter((w) => w && !w.includes('"'));
    if (words.length > 2) out.add(quote(`${words[0]} ${words[1]}`));
  }
  // Combinations.
  const singles = [...out];
  for (let i = 0; i < 150; i++) {
    const n = 2 + Math.floor(random() * 2);
    out.add(Array.from({ length: n }, () => pick(random, singles)).join(' '));
  }
  return [...out];
}

function parsed(text: string): SearchQuery | null {
  try {
    return parseSearchQuery(text);
  } catch {
    return null;
  }
}

describe('the PostgreSQL store answers as the SQLite store', () => {
  let server: RunningPostgres;
  let pgStore: MessageStore;
  let sqliteStore: MessageStore;
  const messages = corpus(240);

  beforeAll(async () => {
    server = await startPostgres();
    pgStore = await openPostgresStore(await server.createDatabase('differential'), { log });
    sqliteStore = await openSqliteStore(':memory:', { log });
    // In the same order in both (so the same seqs), in groups that commit together.
    for (let i = 0; i < messages.length; i += 24) {
      const group = messages.slice(i, i + 24);
      const [a, b] = await Promise.all([Promise.all(group.map((m) => sqliteStore.insert(m))), Promise.all(group.map((m) => pgStore.insert(m)))]);
      expect(b).toEqual(a);
    }
    for (const store of [sqliteStore, pgStore]) {
      for (const [i, m] of messages.entries()) if (i % 5 === 2) await store.setRead(ALL_MAILBOXES, m.id, true);
      await store.setTags(messages.filter((_, i) => i % 6 === 1).map((m) => m.id), ['Important', 'ÉTÉ']);
      await store.setTags(messages.filter((_, i) => i % 10 === 3).map((m) => m.id), ['urgent']);
    }
  }, 120_000);

  afterAll(async () => {
    await pgStore?.close();
    await sqliteStore?.close();
    await server?.stop();
  });

  /** Runs the same call on both stores and expects the same answer (or the same error). */
  async function same<T>(label: string, call: (store: MessageStore) => Promise<T>): Promise<T> {
    const settle = (p: Promise<T>) => p.then((value) => ({ value }), (err: unknown) => ({ error: String((err as Error).message) }));
    const [fromSqlite, fromPg] = await Promise.all([settle(call(sqliteStore)), settle(call(pgStore))]);
    expect(fromPg, label).toEqual(fromSqlite);
    return 'value' in fromSqlite ? fromSqlite.value : (undefined as T);
  }

  it('finds the same messages, in the same order, with the same totals, for every query', async () => {
    const texts = queries(messages);
    expect(texts.length).toBeGreaterThan(400);
    let nonEmpty = 0;
    const scopes: MailboxScope[] = [ALL_MAILBOXES, onlyMailboxes(['w3', 'team']), onlyMailboxes(['w3'])];
    for (const text of texts) {
      const query = parsed(text);
      if (!query) continue;
      for (const scope of scopes) {
        const page = await same(`list ${text}`, (s) => s.list(scope, { query, limit: 1000 }));
        if (page.messages.length > 0) nonEmpty++;
        await same(`bounded ${text}`, (s) => s.list(scope, { query, limit: 3, start: 1, boundedTotal: true }));
      }
      await same(`find ${text}`, (s) => s.find(ALL_MAILBOXES, { query, limit: 7, since: Date.UTC(2026, 10, 2) }));
      await same(`listAt ${text}`, (s) => s.listAt(ALL_MAILBOXES, { query, start: 2, limit: 4 }));
    }
    // Most queries find something: the comparison is not of empty lists.
    expect(nonEmpty).toBeGreaterThan(texts.length / 2);
  }, 300_000);

  it('pages the same way by cursor, after and start', async () => {
    for (const text of ['', 'confirm', 'is:unread', '-mailbox:w3 larger:100']) {
      const query = parseSearchQuery(text);
      let page = await same(`first ${text}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 17, boundedTotal: true }));
      const seen: string[] = [];
      while (page.nextCursor) {
        seen.push(...page.messages.map((m) => m.id));
        const cursor = page.nextCursor;
        page = await same(`next ${text} ${cursor}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 17, cursor }));
        if (page.prevCursor) {
          const after = page.prevCursor;
          await same(`prev ${text} ${after}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 17, after }));
        }
      }
      await same(`oldest ${text}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 17, after: '0' }));
      await same(`start ${text}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 9, start: 40 }));
      await same(`bad cursor ${text}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 9, cursor: 'x1' }));
    }
  });

  it('reads every message, its raw bytes and extras the same', async () => {
    for (const m of messages) {
      await same(`get ${m.id}`, (s) => s.get(ALL_MAILBOXES, m.id));
      await same(`get scoped ${m.id}`, (s) => s.get(onlyMailboxes(['w3']), m.id));
      await same(`raw ${m.id}`, (s) => s.getRaw(ALL_MAILBOXES, m.id));
    }
    await same('get missing', (s) => s.get(ALL_MAILBOXES, 'nope'));
    await same('extras', async (s) => [...(await s.summaryExtras([...messages.map((m) => m.id), 'nope']))].sort());
    await same('stats', (s) => s.stats(ALL_MAILBOXES));
    await same('stats scoped', (s) => s.stats(onlyMailboxes(['team', 'nobox'])));
    await same('mailbox counts', (s) => s.mailboxCounts(ALL_MAILBOXES));
    await same('tag counts', (s) => s.tagCounts(ALL_MAILBOXES));
    await same('tag counts scoped', (s) => s.tagCounts(onlyMailboxes(['w3'])));
  });

  it('changes and deletes the same messages', async () => {
    const ids = messages.map((m) => m.id);
    const q = (text: string) => parseSearchQuery(text);
    await same('setRead', (s) => s.setRead(onlyMailboxes(['w3']), ids[1]!, true));
    await same('setRead out of scope', (s) => s.setRead(onlyMailboxes(['w3']), ids[0]!, true));
    await same('setReadMatching', async (s) => [...(await s.setReadMatching(ALL_MAILBOXES, q('confirm'), true))].sort());
    await same('setReadMatching unread', async (s) => [...(await s.setReadMatching(onlyMailboxes(['team']), q('-is:tagged'), false))].sort());
    await same('changeTags', (s) => s.changeTags(ids.slice(0, 30), ['Blue', 'green', 'BLUE'], ['important', 'nothing']));
    await same('changeTags both', (s) => s.changeTags(ids.slice(20, 40), ['red', 'urgent'], ['URGENT']));
    await same('renameTag scoped', (s) => s.renameTag(onlyMailboxes(['w3']), 'blue', 'Navy'));
    await same('renameTag case', (s) => s.renameTag(ALL_MAILBOXES, 'GREEN', 'Green'));
    await same('renameTag merge', (s) => s.renameTag(ALL_MAILBOXES, 'red', 'navy'));
    await same('deleteTag scoped', (s) => s.deleteTag(onlyMailboxes(['team']), 'ÉTÉ'));
    await same('tag counts after', (s) => s.tagCounts(ALL_MAILBOXES));
    await same('summaries after tags', (s) => s.list(ALL_MAILBOXES, { query: q('is:tagged'), limit: 1000 }));
    await same('delete', (s) => s.delete(ALL_MAILBOXES, ids[2]!));
    await same('delete again', (s) => s.delete(ALL_MAILBOXES, ids[2]!));
    await same('delete out of scope', (s) => s.delete(onlyMailboxes(['w3']), ids[3]!));
    await same('deleteMatching', (s) => s.deleteMatching(onlyMailboxes(['default', 'team']), q('invoice -is:read')));
    await same('prune by age', (s) => s.prune(onlyMailboxes(['w3']), { receivedBefore: Date.UTC(2026, 10, 2) }));
    await same('prune by count', (s) => s.prune(ALL_MAILBOXES, { maxMessages: 150 }));
    await same('counts after deletes', (s) => s.mailboxCounts(ALL_MAILBOXES));
    await same('list after deletes', (s) => s.list(ALL_MAILBOXES, { query: q(''), limit: 1000 }));
    await same('clear scoped', (s) => s.clear(onlyMailboxes(['team'])));
    await same('counts after a scoped clear', (s) => s.mailboxCounts(ALL_MAILBOXES));
    await same('stats after a scoped clear', (s) => s.stats(ALL_MAILBOXES));
    await same('clear all', (s) => s.clear(ALL_MAILBOXES));
    await same('counts after clear: emptied mailboxes stay with zeros', (s) => s.mailboxCounts(ALL_MAILBOXES));
    await same('tags after clear', (s) => s.tagCounts(ALL_MAILBOXES));
  });

  it('bounds a search total past SEARCH_TOTAL_BOUND the same way', async () => {
    const bulk = Array.from({ length: 1_100 }, (_, i) => ({ ...corpus(1)[0]!, id: `bulk${i}`, mailbox: i % 2 ? 'w3' : 'default', parsed: { ok: false as const, error: 'bulk' } }));
    for (let i = 0; i < bulk.length; i += 100) {
      await same(`bulk ${i}`, (s) => Promise.all(bulk.slice(i, i + 100).map((m) => s.insert(m))));
    }
    for (const text of ['', 'subject:order', '-is:read', 'mailbox:w3', 'larger:10']) {
      const query = parseSearchQuery(text);
      const first = await same(`bounded ${text}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 20, boundedTotal: true }));
      await same(`bounded far ${text}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 20, start: 900, boundedTotal: true }));
      if (first.nextCursor) {
        const cursor = first.nextCursor;
        await same(`bounded cursor ${text}`, (s) => s.list(ALL_MAILBOXES, { query, limit: 20, cursor, boundedTotal: true }));
      }
      await same(`exact ${text}`, (s) => s.list(onlyMailboxes(['w3']), { query, limit: 5 }));
      await same(`find ids ${text}`, (s) => s.find(onlyMailboxes(['default']), { query, ids: bulk.slice(0, 30).map((m) => m.id), limit: 10 }));
    }
    const lowerBound = await pgStore.list(ALL_MAILBOXES, { query: parseSearchQuery('larger:10'), limit: 20, boundedTotal: true });
    expect(lowerBound.totalIsLowerBound).toBe(true);
  });

  it('finds words in a message with more distinct words than a tsvector holds', async () => {
    // 150,000 distinct words in the attachments' names: past a tsvector's 1 MB, so the PostgreSQL
    // store searches this message's token stream alone (fts_oversize).
    const names = Array.from({ length: 30 }, (_, f) => Array.from({ length: 5_000 }, (_, i) => `w${f}x${i}z${(i * 7919) % 100_003}`).join(' '));
    const base = corpus(1)[0]!;
    const huge: NewMessage = {
      ...base,
      id: 'huge',
      parsed: base.parsed.ok
        ? { ok: true, message: { ...base.parsed.message, attachments: names.map((filename, i) => ({ id: String(i + 2), filename, contentType: 'text/plain', size: 1, contentId: null, inline: false })) } }
        : base.parsed,
    };
    await same('insert huge', (s) => s.insert(huge));
    for (const text of ['w3x4999z', 'w29x17z', '"w3x4999z49988 w3x5000"', '"w0x1z7919 w0x2z15838"', 'w0x1z7919', '-w12x3', 'nothing']) {
      await same(`huge ${text}`, (s) => s.list(ALL_MAILBOXES, { query: parseSearchQuery(text), limit: 10 }));
    }
    const page = await pgStore.list(ALL_MAILBOXES, { query: parseSearchQuery('w29x17z'), limit: 10 });
    expect(page.messages.map((m) => m.id)).toEqual(['huge']);
  });
});
