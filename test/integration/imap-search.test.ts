/**
 * IMAP SEARCH (src/imap/search.ts) answered over a real SQLite store: a fixed set of messages
 * stored through the store as SMTP ingest stores them, a session's view of them with flags and
 * UIDs, and the store's search as FolderAccess.search answers it (find among ids). Each key, the
 * combinations, what the store is asked and what is read, the cases where IMAP's substring rule
 * and Kotak's word search differ (the answer is IMAP's), and random key trees against a naive
 * evaluator written here from RFC 3501's words.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import libmime from 'libmime';
import { simpleParser } from 'mailparser';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FolderMessage } from '../../src/access/folder-types.js';
import { evaluateSearch, ImapSearchError, parseSearch, type SearchContext } from '../../src/imap/search.js';
import type { ImapValue } from '../../src/imap/wire/values.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseMessage } from '../../src/mail/parse.js';
import { parseSearchQuery, type SearchQuery } from '../../src/mail/search-query.js';
import { openPostgresStore } from '../../src/store/pg/message-store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { MessageStore } from '../../src/store/types.js';
import { newMessageFromRaw, rawMessage } from '../helpers/new-message.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { seededRandom as random } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-imap-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** The store of the suite running now (each backend's suite fills its own). */
let store: MessageStore;

interface Fixture {
  readonly label: string;
  readonly lines: readonly string[];
  readonly receivedAt: string;
  readonly uid: number;
  readonly seen?: boolean;
  readonly flagged?: boolean;
  readonly deleted?: boolean;
  readonly keywords?: readonly string[];
  readonly rcptTo?: readonly string[];
}

/** The view, oldest first: sequence numbers 1 to 8; UIDs apart from them. */
const FIXTURES: readonly Fixture[] = [
  {
    label: 'html',
    uid: 3,
    receivedAt: '2026-12-01T09:00:00Z',
    seen: true,
    flagged: true,
    lines: [
      'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@store.example>',
      'To: alice@example.com',
      'Subject: =?UTF-8?B?w4RyZ2VyIGltIELDvHJv?=',
      'Date: Tue, 1 Dec 2026 10:00:00 +0100',
      'Message-ID: <b@store.example>',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><body><p>Rechnung &amp; Lieferschein f&uuml;r Sie</p></body></html>',
    ],
  },
  {
    label: 'qp',
    uid: 5,
    receivedAt: '2026-12-02T09:00:00Z',
    seen: true,
    keywords: ['work'],
    lines: [
      'From: "Doe, John" <john.doe@example.com>',
      'To: team@example.org',
      'Bcc: hidden@example.com',
      'Subject: Weekly report',
      'Date: Wed, 2 Dec 2026 09:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=C3=A9 cr=C3=A8me for everyone. Reorder the =',
      'supplies please.',
    ],
  },
  {
    label: 'base64',
    uid: 8,
    receivedAt: '2026-12-03T23:59:59.999Z',
    deleted: true,
    lines: [
      'From: robot@ci.example',
      'To: dev@example.org',
      'Subject: Build 42 failed',
      'Date: 3 Dec 2026 12:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      'VGhyZXNob2xkIHJlYWNoZWQ6IHJlb3JkZXIgd2lkZ2V0cy4NClNlZSBodHRwczovL2NpLmV4YW1wbGUvNDINCg==',
    ],
  },
  {
    label: 'japanese',
    uid: 13,
    receivedAt: '2026-12-04T00:00:00Z',
    lines: [
      'From: tanaka@example.jp',
      'To: alice@example.com',
      'Subject: =?UTF-8?B?5pel5pys6Kqe44Gu44OG44K544OI?=',
      'Date: Thu, 3 Dec 2026 20:00:00 -0500',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'これはテスト中のメールです。',
    ],
  },
  {
    label: 'nodate',
    uid: 21,
    receivedAt: '2026-12-05T12:00:00Z',
    // A hidden recipient: Kotak's bcc: finds it, IMAP's BCC (the Bcc header) does not.
    rcptTo: ['alice@example.com', 'secret@hidden.example'],
    lines: ['From: someone@example.com', 'To: alice@example.com', 'Subject: No date here', '', 'plain words only'],
  },
  {
    label: 'alternative',
    uid: 34,
    receivedAt: '2026-12-06T12:00:00Z',
    flagged: true,
    lines: [
      'From: noreply@accounts.example',
      'Reply-To: support@help.example',
      'To: Bob <bob@example.org>',
      'Cc: "Ops Team" <ops@example.net>',
      'Subject: Password reset',
      'Date: Fri, 4 Dec 2026 08:00:00 +0900 (JST)',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Your password reset code is 987654.',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Your password reset code is <b>987654</b>.</p>',
      '--b1--',
    ],
  },
  {
    label: 'folded',
    uid: 55,
    receivedAt: '2026-12-07T12:00:00Z',
    lines: [
      'From: Ünal Yılmaz <unal@example.com>',
      'To: alice@example.com',
      'Subject: Meeting notes',
      ' for Monday',
      'X-Priority: 1',
      'Date: Sat, 5 Dec 2026 23:59:59 +0000',
      '',
      'Agenda: budget, hiring.',
    ],
  },
  {
    label: 'order',
    uid: 89,
    receivedAt: '2026-12-08T07:30:00Z',
    seen: true,
    keywords: ['$Important'],
    lines: [
      'From: Alice Example <alice@example.com>',
      'To: Bob Builder <bob@example.org>',
      'Cc: carol@example.net',
      'Subject: Your Order 1234 confirmed',
      'Date: Mon, 7 Dec 2026 23:30:00 -0800',
      'Message-ID: <order.1234@shop.example>',
      'X-Mailer: KotakTest 1.0',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Thanks for your order. The invoice is attached below.',
    ],
  },
];

/** In the folder but older than the session's window: never in an answer. */
const OUTSIDE_VIEW = ['From: Alice Example <alice@example.com>', 'To: bob@example.org', 'Subject: Your Order 9999 outside', '', 'The invoice is attached. Reorder soon.'];

const view: FolderMessage[] = [];
const labelOf = new Map<string, string>();
let outsideId = '';

/** Stores the fixtures (and the message outside the view) in `store`, and builds the view. */
async function fill(): Promise<void> {
  view.length = 0;
  labelOf.clear();
  const outside = await newMessageFromRaw(rawMessage(OUTSIDE_VIEW), { receivedAt: Date.parse('2026-11-01T00:00:00Z') });
  outsideId = (await store.insert(outside)).id;
  for (const fixture of FIXTURES) {
    const message = await newMessageFromRaw(rawMessage(fixture.lines), {
      receivedAt: Date.parse(fixture.receivedAt),
      ...(fixture.rcptTo ? { envelope: { rcptTo: [...fixture.rcptTo] } } : {}),
    });
    const summary = await store.insert(message);
    labelOf.set(summary.id, fixture.label);
    view.push({
      id: summary.id,
      uid: fixture.uid,
      size: summary.size,
      receivedAt: Date.parse(summary.receivedAt),
      flags: { seen: fixture.seen ?? false, flagged: fixture.flagged ?? false, deleted: fixture.deleted ?? false, keywords: fixture.keywords ?? [] },
    });
  }
}

interface Recorded {
  /** The narrowing queries asked, in order. */
  readonly asked: { query: SearchQuery; within: readonly string[] | null }[];
  /** The text-unknown queries asked (what the store cannot vouch for, added to an index's answer): apart, at most one per kind per search. */
  readonly unknownAsked: { query: SearchQuery; within: readonly string[] | null }[];
  readonly reads: string[];
}

/** A session's context over the store, as FolderAccess.search and read answer it; what it is asked is recorded. */
function contextOf(messages: readonly FolderMessage[] = view): SearchContext & Recorded {
  const asked: Recorded['asked'] = [];
  const unknownAsked: Recorded['unknownAsked'] = [];
  const reads: string[] = [];
  return {
    messages,
    asked,
    unknownAsked,
    reads,
    async matching(query, within) {
      if (query.terms.every((term) => term.kind === 'text-unknown')) unknownAsked.push({ query, within });
      else asked.push({ query, within });
      // Null is "the whole folder": the message outside the window is found too, as the real folder would find it.
      const found = await store.find(ALL_MAILBOXES, { query, ids: within, limit: 10_000 });
      return new Set(found.map((m) => m.id));
    },
    async read(id) {
      reads.push(id);
      return store.getRaw(ALL_MAILBOXES, id);
    },
  };
}

const atom = (value: string): ImapValue => ({ kind: 'atom', value });
const str = (value: string): ImapValue => ({ kind: 'string', value: Buffer.from(value, 'utf8'), literal: /["\\\r\n]|[^\x00-\x7f]/.test(value) });
const list = (...items: ImapValue[]): ImapValue[] => [{ kind: 'list', items }];

/** Atoms, "quoted strings" and (parenthesised groups): SEARCH's arguments as the wire parser gives them. */
function args(text: string): ImapValue[] {
  const stack: ImapValue[][] = [[]];
  for (const m of text.matchAll(/"([^"]*)"|([()])|([^\s()"]+)/g)) {
    if (m[2] === '(') stack.push([]);
    else if (m[2] === ')') {
      const items = stack.pop()!;
      stack.at(-1)!.push({ kind: 'list', items });
    } else stack.at(-1)!.push(m[1] !== undefined ? str(m[1]) : atom(m[3]!));
  }
  return stack[0]!;
}

async function search(text: string | ImapValue[], context: SearchContext = contextOf()): Promise<string[]> {
  const found = await evaluateSearch(parseSearch(typeof text === 'string' ? args(text) : text), context);
  return found.map((m) => labelOf.get(m.id) ?? m.id);
}

/** Kotak's own search (the API's `?query=`), among the view's messages. */
async function kotakSearch(query: string): Promise<string[]> {
  const found = await store.find(ALL_MAILBOXES, { query: parseSearchQuery(query), ids: view.map((m) => m.id), limit: 100 });
  return view.filter((m) => found.some((f) => f.id === m.id)).map((m) => labelOf.get(m.id)!);
}

const ALL = FIXTURES.map((f) => f.label);
const except = (...labels: string[]) => ALL.filter((label) => !labels.includes(label));

function keySuite(): void {
  describe('IMAP SEARCH', () => {
    it('answers flag keys from the view alone: no store query, nothing read', async () => {
      const cases: [string, string[]][] = [
        ['ALL', ALL],
        ['SEEN', ['html', 'qp', 'order']],
        ['UNSEEN', except('html', 'qp', 'order')],
        ['FLAGGED', ['html', 'alternative']],
        ['UNFLAGGED', except('html', 'alternative')],
        ['DELETED', ['base64']],
        ['UNDELETED', except('base64')],
        ['KEYWORD $important', ['order']],
        ['KEYWORD Work', ['qp']],
        ['UNKEYWORD work', except('qp')],
        ['KEYWORD $Junk', []],
        ['ANSWERED', []],
        ['UNANSWERED', ALL],
        ['DRAFT', []],
        ['UNDRAFT', ALL],
        ['RECENT', []],
        ['NEW', []],
        ['OLD', ALL],
      ];
      for (const [keys, expected] of cases) {
        const context = contextOf();
        expect(await search(keys, context), keys).toEqual(expected);
        expect(context.asked, keys).toEqual([]);
        expect(context.reads, keys).toEqual([]);
      }
    });

    it('matches sequence numbers and UIDs, with * and ranges in either order', async () => {
      expect(await search('2:4')).toEqual(['qp', 'base64', 'japanese']);
      expect(await search('4:2')).toEqual(['qp', 'base64', 'japanese']);
      expect(await search('*')).toEqual(['order']);
      expect(await search('*:7')).toEqual(['folded', 'order']);
      expect(await search('6,1')).toEqual(['html', 'alternative']);
      expect(await search('9')).toEqual([]);
      expect(await search('UID 5:13')).toEqual(['qp', 'base64', 'japanese']);
      expect(await search('UID 13:5,89')).toEqual(['qp', 'base64', 'japanese', 'order']);
      expect(await search('UID *')).toEqual(['order']);
      // 100:* is 89:100 with 89 the largest UID: the last message, as RFC 3501 says for UID ranges.
      expect(await search('UID 100:*')).toEqual(['order']);
      expect(await search('UID 1:2')).toEqual([]);
      expect(await search('UID 4')).toEqual([]);
      // An empty view has no *.
      expect(await search('*', contextOf([]))).toEqual([]);
    });

    it('compares sizes and INTERNALDATE days in UTC from the view', async () => {
      const size = view[1]!.size;
      expect(await search(`LARGER ${size}`)).toEqual(view.filter((m) => m.size > size).map((m) => labelOf.get(m.id)));
      expect(await search(`SMALLER ${size}`)).toEqual(view.filter((m) => m.size < size).map((m) => labelOf.get(m.id)));
      expect(await search(`NOT LARGER ${size} NOT SMALLER ${size}`)).toContain('qp');
      // 23:59:59.999Z is still the 3rd; 00:00Z is the 4th.
      expect(await search('ON 3-Dec-2026')).toEqual(['base64']);
      expect(await search('ON 4-Dec-2026')).toEqual(['japanese']);
      expect(await search('BEFORE 2-Dec-2026')).toEqual(['html']);
      expect(await search('SINCE 7-Dec-2026')).toEqual(['folded', 'order']);
      expect(await search('SINCE 3-Dec-2026 BEFORE 4-Dec-2026')).toEqual(['base64']);
    });

    it("compares SENT* with the Date header's day as written, in its own zone; no Date header matches none", async () => {
      const context = contextOf();
      // -0800: the 7th where written, the 8th in UTC.
      expect(await search('SENTON 7-Dec-2026', context)).toEqual(['order']);
      // The store narrows by the Date it parsed, with 100 hours of slack for the zone; the exact check reads only those.
      expect(context.asked.map((a) => a.query.terms[0]!.kind)).toEqual(['may-be-sent']);
      expect(context.reads.map((id) => labelOf.get(id)).sort()).toEqual(['alternative', 'base64', 'folded', 'japanese', 'nodate', 'order']);
      expect(await search('SENTON 3-Dec-2026')).toEqual(['base64', 'japanese']);
      // +0900 on the 4th, the 3rd in UTC.
      expect(await search('SENTON 4-Dec-2026')).toEqual(['alternative']);
      expect(await search('SENTBEFORE 2-Dec-2026')).toEqual(['html']);
      expect(await search('SENTSINCE 5-Dec-2026')).toEqual(['folded', 'order']);
      expect(await search('SENTBEFORE 1-Jan-2100')).toEqual(except('nodate'));
      expect(await search('NOT SENTBEFORE 1-Jan-2100')).toEqual(['nodate']);
    });

    it('matches SUBJECT as a substring of the decoded header, whatever the case: "rder" finds "Order", which the word search does not', async () => {
      expect(await kotakSearch('rder')).toEqual([]);
      const context = contextOf();
      expect(await search('SUBJECT "rder"', context)).toEqual(['order']);
      // Narrowed by the store (subject:), then only what it found was read; the one outside the view never.
      expect(context.asked.map((a) => a.query.terms)).toEqual([[{ kind: 'field', field: 'subject', value: 'rder', negated: false }]]);
      expect(context.reads.map((id) => labelOf.get(id))).toEqual(['order']);
      expect(context.reads).not.toContain(outsideId);
      // Each run of the string is a condition of its own, so a common word does not make every message a candidate.
      const runs = contextOf();
      expect(await search('SUBJECT "YOUR ORDER 1234"', runs)).toEqual(['order']);
      expect(runs.asked[0]!.query.terms.map((t) => (t.kind === 'field' ? t.value : ''))).toEqual(['order', 'your', '1234']);
      expect(runs.reads.map((id) => labelOf.get(id))).toEqual(['order']);
      // Encoded words decoded, and letters beyond ASCII folded, which the store's LIKE would not do.
      expect(await search('SUBJECT "ärger IM BÜRO"')).toEqual(['html']);
      expect(await search('SUBJECT "日本語"')).toEqual(['japanese']);
      // A folded subject is unfolded.
      expect(await search('SUBJECT "notes for monday"')).toEqual(['folded']);
      expect(await search('SUBJECT "notes  for"')).toEqual([]);
      expect(await search('SUBJECT ""')).toEqual(ALL);
    });

    it('matches FROM, TO, CC and BCC on the header as written (decoded), not on the parsed address list', async () => {
      expect(await search('FROM "MÜLLER"')).toEqual(['html']);
      expect(await search([atom('FROM'), str('"Doe, John" <john')])).toEqual(['qp']);
      // Kotak's from: reads the parsed list, "doe, john <john.doe@…>", without the quotes the header has.
      expect(await kotakSearch('from:"doe, john <john"')).toEqual(['qp']);
      expect(await search('FROM "Doe, John <john"')).toEqual([]);
      expect(await search('FROM "hn.do"')).toEqual(['qp']);
      expect(await search('FROM ünal')).toEqual(['folded']);
      expect(await search('TO bob@example.org')).toEqual(['alternative', 'order']);
      expect(await search('TO "Builder <bob"')).toEqual(['order']);
      expect(await search('CC "ops team"')).toEqual(['alternative']);
      expect(await search('CC example.net')).toEqual(['alternative', 'order']);
      expect(await search('BCC hidden')).toEqual(['qp']);
      // Kotak's bcc: holds the envelope's hidden recipients too; IMAP's BCC is the Bcc header.
      expect(await kotakSearch('bcc:secret')).toEqual(['nodate']);
      expect(await search('BCC secret')).toEqual([]);
      expect(await search('TO ""')).toEqual(ALL);
      expect(await search('CC ""')).toEqual(['alternative', 'order']);
    });

    it('matches BODY as a substring of the decoded text (transfer encoding and HTML undone), never the header', async () => {
      // Inside words: the word search finds none of them.
      expect(await kotakSearch('rder')).toEqual([]);
      expect(await search('BODY rder')).toEqual(['qp', 'base64', 'order']);
      // A soft line break (quoted-printable) and base64 are undone.
      expect(await search('BODY "the supplies"')).toEqual(['qp']);
      expect(await search('BODY "REORDER WIDGETS"')).toEqual(['base64']);
      expect(await search('BODY "café crème"')).toEqual(['qp']);
      // The HTML's text as Kotak's parser reads it (tags gone, &amp; decoded).
      expect(await search('BODY "rechnung & LIEFERSCHEIN"')).toEqual(['html']);
      expect(await search('BODY "<p>"')).toEqual([]);
      expect(await search('BODY 987654')).toEqual(['alternative']);
      expect(await search('BODY "テスト中"')).toEqual(['japanese']);
      // In the subject only: Kotak's word search finds it, BODY does not.
      expect(await kotakSearch('"1234 confirmed"')).toEqual(['order']);
      expect(await search('BODY "1234 confirmed"')).toEqual([]);
      expect(await search('BODY ""')).toEqual(ALL);
    });

    it('narrows BODY by the words a substring holds whole, and reads only what the store found', async () => {
      const context = contextOf();
      expect(await search('BODY "ice is attach"', context)).toEqual(['order']);
      expect(context.asked.map((a) => a.query.terms)).toEqual([[{ kind: 'text', value: 'is attach', phrase: false, negated: false }]]);
      expect(context.asked[0]!.within).toBeNull();
      expect(context.reads.map((id) => labelOf.get(id))).toEqual(['order']);
    });

    it('matches TEXT in any header field or the body', async () => {
      expect(await search('TEXT "1234 confirmed"')).toEqual(['order']);
      expect(await search('TEXT kotaktest')).toEqual(['order']);
      expect(await search('TEXT rder')).toEqual(['qp', 'base64', 'order']);
      expect(await search('TEXT "x-priority: 1"')).toEqual(['folded']);
      expect(await search('TEXT 987654')).toEqual(['alternative']);
      expect(await search('TEXT "ärger"')).toEqual(['html']);
    });

    it('matches HEADER on any field, by the store where it holds the field', async () => {
      expect(await search('HEADER X-Mailer "kotaktest 1"')).toEqual(['order']);
      expect(await search('HEADER x-priority ""')).toEqual(['folded']);
      expect(await search('HEADER X-Nothing ""')).toEqual([]);
      const context = contextOf();
      expect(await search('HEADER Message-ID "order.1234@"', context)).toEqual(['order']);
      expect(context.asked.map((a) => a.query.terms[0])).toEqual([{ kind: 'field', field: 'message-id', value: 'order.1234@', negated: false }]);
      expect(await search('HEADER Message-ID "<order"')).toEqual(['order']);
      expect(await search('HEADER reply-to help.example')).toEqual(['alternative']);
      expect(await search('HEADER SUBJECT rder')).toEqual(['order']);
      expect(await search('HEADER From ci.example')).toEqual(['base64']);
      expect(await search('HEADER Content-Transfer-Encoding base64')).toEqual(['base64']);
    });

    it('narrows BODY inside a word, TEXT and HEADER of any field by the stored texts: only the candidates are read', async () => {
      const body = contextOf();
      expect(await search('BODY rder', body)).toEqual(['qp', 'base64', 'order']);
      expect(body.asked.map((a) => a.query.terms)).toEqual([[{ kind: 'may-contain', in: 'body', field: null, value: 'rder', negated: false }]]);
      // The candidates are listed (not the folder, which may hold more than the view), and only the matches are read.
      expect(body.asked[0]!.within).toHaveLength(view.length);
      expect(body.reads.map((id) => labelOf.get(id))).toEqual(['qp', 'base64', 'order']);
      const text = contextOf();
      expect(await search('TEXT kotaktest', text)).toEqual(['order']);
      expect(text.reads.map((id) => labelOf.get(id))).toEqual(['order']);
      const header = contextOf();
      expect(await search('HEADER X-Mailer "KotakTest 1"', header)).toEqual(['order']);
      expect(header.asked[0]!.query.terms.map((t) => (t.kind === 'may-contain' ? [t.field, t.value] : []))).toEqual([
        ['x-mailer', 'kotaktest'],
        ['x-mailer', '1'],
      ]);
      expect(header.reads.map((id) => labelOf.get(id))).toEqual(['order']);
      // The HTML's text, looked for in its markup ("<p>Rechnung &amp; Lieferschein").
      const html = contextOf();
      expect(await search('BODY "ECHNUN"', html)).toEqual(['html']);
      expect(html.reads.map((id) => labelOf.get(id))).toEqual(['html']);
    });

    it('never lets the store drop a match: case beyond ASCII, encoded words, HTML entities, cut and raw bodies, odd Date zones', async () => {
      const extra: [string, string[]][] = [
        ['kelvin', ['From: k@example.com', 'Subject: Units', 'Content-Type: text/plain; charset=utf-8', '', 'Measured in \u212Aelvin and ÄRGERLICH units']],
        ['shy', ['From: s@example.com', 'Subject: Hyphens', 'Content-Type: text/html; charset=utf-8', '', '<p>Your Or&shy;der and o&#114;ders</p>']],
        ['kelvinsubject', ['From: t@example.com', 'Subject: =?UTF-8?Q?300_=E2=84=AAelvin?=', '', 'cold']],
        ['encoded', ['From: e@example.com', 'Subject: Encoded', 'X-Greeting: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6LN?=', '', 'x']],
        ['farzone', ['From: z@example.com', 'Subject: Far zone', 'Date: 7 Dec 2026 23:30 -9959', '', 'x']],
        ['oldyear', ['From: y@example.com', 'Subject: Old year', 'Date: 9 Dec 126 10:00 +0000', '', 'x']],
      ];
      const added: FolderMessage[] = [];
      const ids: string[] = [];
      for (const [label, lines] of extra) {
        const stored = await store.insert(await newMessageFromRaw(rawMessage(lines)));
        labelOf.set(stored.id, label);
        ids.push(stored.id);
        added.push({ id: stored.id, uid: 400 + added.length, size: stored.size, receivedAt: Date.parse(stored.receivedAt), flags: { seen: false, flagged: false, deleted: false, keywords: [] } });
      }
      // Cut: the store holds the first part of the text only (a large spooled message): the rest is the store's blind spot.
      const cutBase = await newMessageFromRaw(rawMessage(['From: c@example.com', 'Subject: Cut', '', 'head of the text, then far beyond the cut: the tail-marker']));
      if (!cutBase.parsed.ok) throw new Error('parses');
      const cut = await store.insert({ ...cutBase, parsed: { ok: true, message: { ...cutBase.parsed.message, text: 'head of the text', textCut: true } } });
      labelOf.set(cut.id, 'cut');
      ids.push(cut.id);
      added.push({ id: cut.id, uid: 499, size: cut.size, receivedAt: Date.parse(cut.receivedAt), flags: { seen: false, flagged: false, deleted: false, keywords: [] } });
      const withExtra = [...view, ...added];
      try {
        expect(await search('BODY kelvin', contextOf(withExtra))).toEqual(['kelvin']);
        expect(await search('BODY ärgerlich', contextOf(withExtra))).toEqual(['kelvin']);
        expect(await search('BODY "rder"', contextOf(withExtra))).toEqual(['qp', 'base64', 'order', 'shy']);
        expect(await search('BODY "your order and orders"', contextOf(withExtra))).toEqual(['shy']);
        expect(await search('HEADER X-Greeting "aus KÖln"', contextOf(withExtra))).toEqual(['encoded']);
        // The subject column folds A-Z only; the Kelvin sign lower-cases to "k" for IMAP.
        expect(await search('SUBJECT "300 kelvin"', contextOf(withExtra))).toEqual(['kelvinsubject']);
        expect(await search('TEXT "grüße aus"', contextOf(withExtra))).toEqual(['encoded']);
        expect(await search('BODY "ail-mark"', contextOf(withExtra))).toEqual(['cut']);
        // -99:59: the 7th as written, the 12th in UTC; a 3-digit year is 1900 + it (JavaScript reads year 126).
        expect(await search('SENTON 7-Dec-2026', contextOf(withExtra))).toEqual(['order', 'farzone']);
        expect(await search('SENTON 9-Dec-2026', contextOf(withExtra))).toEqual(['oldyear']);
      } finally {
        for (const id of ids) await store.delete(ALL_MAILBOXES, id);
      }
    });

    it('in a folder of many messages, BODY inside a word reads only what the store kept', async () => {
      const many: FolderMessage[] = [];
      const ids: string[] = [];
      for (let i = 0; i < 150; i++) {
        const word = i % 50 === 7 ? 'invoice' : 'receipt';
        const stored = await store.insert(await newMessageFromRaw(rawMessage([`From: n${i}@example.com`, `Subject: Number ${i}`, '', `Your ${word} number ${i} is ready.`])));
        labelOf.set(stored.id, `n${i}`);
        ids.push(stored.id);
        many.push({ id: stored.id, uid: 1000 + i, size: stored.size, receivedAt: Date.parse(stored.receivedAt), flags: { seen: false, flagged: false, deleted: false, keywords: [] } });
      }
      try {
        const context = contextOf(many);
        expect(await search('BODY nvoic', context)).toEqual(['n7', 'n57', 'n107']);
        expect(context.reads.map((id) => labelOf.get(id))).toEqual(['n7', 'n57', 'n107']);
      } finally {
        for (const id of ids) await store.delete(ALL_MAILBOXES, id);
      }
    });

    it('composes NOT, OR and groups as set operations', async () => {
      expect(await search('SEEN SUBJECT order')).toEqual(['order']);
      expect(await search('OR FLAGGED DELETED')).toEqual(['html', 'base64', 'alternative']);
      expect(await search('NOT OR SEEN FLAGGED')).toEqual(['base64', 'japanese', 'nodate', 'folded']);
      expect(await search('NOT NOT SEEN')).toEqual(['html', 'qp', 'order']);
      expect(await search('OR (BODY rder SEEN) UID 34')).toEqual(['qp', 'alternative', 'order']);
      // A group ANDs its keys: FROM example AND (DELETED OR FLAGGED).
      expect(await search('NOT (FROM example OR DELETED FLAGGED)')).toEqual(['qp', 'japanese', 'nodate', 'folded', 'order']);
      expect(await search('OR OR SUBJECT build SUBJECT weekly NOT TO alice')).toEqual(['qp', 'base64', 'alternative', 'order']);
      expect(await search('(UNSEEN) (NOT BODY "plain") 1:5')).toEqual(['base64', 'japanese']);
      expect(await search('NOT ALL')).toEqual([]);
    });

    it('runs the cheapest keys first, so the store is asked about a few ids and reads are few', async () => {
      const context = contextOf();
      // Written with the string key first: the UID set runs before it, then one message is read.
      expect(await search('BODY rder UID 89', context)).toEqual(['order']);
      expect(context.reads.map((id) => labelOf.get(id))).toEqual(['order']);

      const narrowed = contextOf();
      expect(await search('FROM alice SEEN', narrowed)).toEqual(['order']);
      expect(narrowed.asked).toHaveLength(1);
      expect(narrowed.asked[0]!.within?.map((id) => labelOf.get(id))).toEqual(['html', 'qp', 'order']);

      // OR asks its second key only about what its first left.
      const or = contextOf();
      expect(await search('OR SUBJECT order SUBJECT report', or)).toEqual(['qp', 'order']);
      expect(or.asked[1]!.within).not.toContain(view[7]!.id);
      // Nothing left: the store is not asked at all.
      const none = contextOf();
      expect(await search('DRAFT FROM alice BODY x TEXT y', none)).toEqual([]);
      expect(none.asked).toEqual([]);
      expect(none.reads).toEqual([]);
    });

    it('asks the store about the whole folder rather than list more than 10,000 candidates, and keeps to the candidates', async () => {
      // Ids the store has never held stand for a long window of older mail; all unseen.
      const filler: FolderMessage[] = Array.from({ length: 10_001 }, (_, i) => ({ id: `filler-${i}`, uid: 1000 + i, size: 10, receivedAt: 0, flags: { seen: false, flagged: false, deleted: false, keywords: [] } }));
      const large = [...filler, ...view.map((m) => ({ ...m, uid: m.uid + 20_000 }))];
      const context = contextOf(large);
      // UNSEEN leaves 10,006 candidates: more than a list of ids the store should be given.
      expect(await search('UNSEEN SUBJECT "o"', context)).toEqual(['nodate', 'alternative', 'folded']);
      expect(context.asked).toHaveLength(1);
      expect(context.asked[0]!.within).toBeNull();
      // SEEN leaves three: those are listed.
      const few = contextOf(large);
      expect(await search('SEEN SUBJECT "o"', few)).toEqual(['html', 'qp', 'order']);
      expect(few.asked[0]!.within).toHaveLength(3);
    });

    it('searches the raw body of a message the parser refuses, instead of failing the search', async () => {
      // More parts than mailparser's default of 1000: stored raw, as Kotak keeps a message over its limits.
      const parts = Array.from({ length: 1100 }, (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${i} haystack\r\n`).join('');
      const raw = Buffer.from(`From: many@example.com\r\nSubject: Many parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n${parts}--p--\r\n`);
      await expect(parseMessage(raw)).rejects.toThrow();
      const base = await newMessageFromRaw(rawMessage(['From: many@example.com', 'Subject: Many parts', '', 'x']));
      const stored = await store.insert({ ...base, raw, parsed: { ok: false, error: 'too many parts' } });
      labelOf.set(stored.id, 'many');
      const withMany: FolderMessage[] = [...view, { id: stored.id, uid: 300, size: stored.size, receivedAt: Date.parse(stored.receivedAt), flags: { seen: false, flagged: false, deleted: false, keywords: [] } }];
      // A word inside which the string may start is not narrowed: every candidate is read, this one too.
      expect(await search('BODY "1099"', contextOf(withMany))).toEqual(['many']);
      expect(await search('TEXT "haystack" FROM many', contextOf(withMany))).toEqual(['many']);
      expect(await search('BODY rder', contextOf(withMany))).toEqual(['qp', 'base64', 'order']);
      // Narrowed by the full-text index, which holds nothing of it: it stays a candidate all the same (asked once per search).
      const indexed = contextOf(withMany);
      expect(await search('BODY "part 1099" BODY "1098 haystack"', indexed)).toEqual(['many']);
      expect(indexed.asked.map((a) => a.query.terms[0]!.kind)).toEqual(['text', 'text']);
      // About the view's ids (a folder may hold far more than its window), once.
      expect(indexed.unknownAsked).toHaveLength(1);
      expect(indexed.unknownAsked[0]!.within).toHaveLength(withMany.length);
      expect(await search('SUBJECT "many parts"', contextOf(withMany))).toEqual(['many']);
      expect(await search('SENTBEFORE 1-Jan-2100', contextOf(withMany))).toEqual(except('nodate'));
      await store.delete(ALL_MAILBOXES, stored.id);
    });

    it('reads strings as UTF-8 with CHARSET UTF-8 or US-ASCII or none, and refuses other charsets', async () => {
      expect(await search('CHARSET UTF-8 SUBJECT ärger')).toEqual(['html']);
      expect(await search('CHARSET US-ASCII SUBJECT order')).toEqual(['order']);
      expect(() => parseSearch(args('CHARSET ISO-8859-1 SUBJECT x'))).toThrow(ImapSearchError);
      expect(() => parseSearch(args('SUBJECT'))).toThrow(/SUBJECT needs a string/);
    });

    it('takes a message deleted meanwhile as matching no string key', async () => {
      const message = await store.insert(await newMessageFromRaw(rawMessage(['From: gone@example.com', 'Subject: Gone soon', '', 'bye'])));
      const withGone: FolderMessage[] = [...view, { id: message.id, uid: 200, size: message.size, receivedAt: Date.parse(message.receivedAt), flags: { seen: false, flagged: false, deleted: false, keywords: [] } }];
      labelOf.set(message.id, 'gone');
      // Deleted after the store found it, before it was read.
      const context = contextOf(withGone);
      const reading: SearchContext = {
        ...context,
        read: async (id) => {
          if (id === message.id) await store.delete(ALL_MAILBOXES, id);
          return store.getRaw(ALL_MAILBOXES, id);
        },
      };
      expect(await search('SUBJECT gone', reading)).toEqual([]);
      expect(context.asked).toHaveLength(1);
      // Gone, it holds no subject: NOT finds it (the session's next FETCH of it reports it gone).
      expect(await search('NOT SUBJECT gone', contextOf(withGone))).toEqual([...ALL, 'gone']);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Random key trees against a naive evaluator: every message read whole, every key by RFC 3501's words.

interface NaiveMessage {
  readonly seq: number;
  readonly folder: FolderMessage;
  /** [lower-cased name, lower-cased decoded value] */
  readonly headers: readonly [string, string][];
  readonly bodies: readonly string[];
  readonly sentDay: number | null;
}

type Tree =
  | { k: 'atom'; name: string; test: (m: NaiveMessage, count: number) => boolean; args: ImapValue[] }
  | { k: 'not'; a: Tree }
  | { k: 'or'; a: Tree; b: Tree }
  | { k: 'and'; items: Tree[] };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

async function naiveMessages(): Promise<NaiveMessage[]> {
  return Promise.all(
    view.map(async (folder, at) => {
      const raw = (await store.getRaw(ALL_MAILBOXES, folder.id))!;
      // mailparser's header lines, as written; decoded here independently of the module under test.
      const parsed = await simpleParser(raw);
      const headers = parsed.headerLines.map(({ key, line }): [string, string] => {
        const value = Buffer.from(line.slice(line.indexOf(':') + 1), 'latin1').toString('utf8').replace(/\r\n([ \t])/g, '$1').trim();
        return [key.toLowerCase(), libmime.decodeWords(value).toLowerCase()];
      });
      const kotak = await parseMessage(raw);
      const date = headers.find(([name]) => name === 'date')?.[1];
      const m = date ? /(\d{1,2}) ([a-z]{3}) (\d{4})/.exec(date) : null;
      const sentDay = m ? Date.UTC(Number(m[3]), MONTHS.findIndex((name) => name.toLowerCase() === m[2]), Number(m[1])) / 86_400_000 : null;
      return { seq: at + 1, folder, headers, bodies: [kotak.text, kotak.htmlText].flatMap((t) => (t ? [t.toLowerCase()] : [])), sentDay };
    }),
  );
}

function generator(next: () => number, messages: readonly NaiveMessage[]) {
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const day = () => Date.UTC(2026, 10, 29 + int(12)) / 86_400_000;
  const imapDate = (d: number) => {
    const date = new Date(d * 86_400_000);
    return `${date.getUTCDate()}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()}`;
  };
  const dayOf = (ms: number) => Math.floor(ms / 86_400_000);
  const compare = (op: string, value: number | null, wanted: number) => value !== null && (op === 'BEFORE' ? value < wanted : op === 'ON' ? value === wanted : value >= wanted);
  /** A random piece of one message's text, in a random case: most string keys then match something. */
  const needle = (texts: string[]) => {
    if (texts.length === 0 || next() < 0.15) return pick(['zzq', 'e', ' ', 'example', 'Ü']);
    const text = pick(texts);
    const start = int(text.length);
    const piece = text.slice(start, start + 1 + int(10));
    return next() < 0.5 ? piece.toUpperCase() : piece;
  };
  const sequenceSet = (largest: number) => {
    const bound = () => (next() < 0.2 ? '*' : String(1 + int(largest + 2)));
    return Array.from({ length: 1 + int(2) }, () => (next() < 0.5 ? bound() : `${bound()}:${bound()}`)).join(',');
  };
  const inSet = (set: string, n: number, largest: number) =>
    set.split(',').some((part) => {
      const [a, b = a] = part.split(':').map((x) => (x === '*' ? largest : Number(x)));
      return n >= Math.min(a!, b!) && n <= Math.max(a!, b!);
    });

  const leaf = (): Tree => {
    const kind = int(9);
    if (kind === 0) {
      const [name, test] = pick<[string, (m: NaiveMessage) => boolean]>([
        ['SEEN', (m) => m.folder.flags.seen],
        ['UNSEEN', (m) => !m.folder.flags.seen],
        ['FLAGGED', (m) => m.folder.flags.flagged],
        ['UNDELETED', (m) => !m.folder.flags.deleted],
        ['DELETED', (m) => m.folder.flags.deleted],
        ['ANSWERED', () => false],
        ['OLD', () => true],
        ['ALL', () => true],
      ]);
      return { k: 'atom', name, test, args: [atom(name)] };
    }
    if (kind === 1) {
      const keyword = pick(['work', '$Important', 'WORK', 'other']);
      const un = next() < 0.5;
      const test = (m: NaiveMessage) => m.folder.flags.keywords.some((k) => k.toLowerCase() === keyword.toLowerCase()) !== un;
      return { k: 'atom', name: `${un ? 'UN' : ''}KEYWORD ${keyword}`, test, args: [atom(`${un ? 'UN' : ''}KEYWORD`), atom(keyword)] };
    }
    if (kind === 2) {
      const uid = next() < 0.5;
      const set = sequenceSet(uid ? 100 : messages.length);
      const test = (m: NaiveMessage, count: number) =>
        count > 0 && (uid ? inSet(set, m.folder.uid, messages[count - 1]!.folder.uid) : inSet(set, m.seq, count));
      return { k: 'atom', name: `${uid ? 'UID ' : ''}${set}`, test, args: uid ? [atom('UID'), atom(set)] : [atom(set)] };
    }
    if (kind === 3) {
      const op = pick(['LARGER', 'SMALLER']);
      const octets = pick(messages).folder.size + int(3) - 1;
      return { k: 'atom', name: `${op} ${octets}`, test: (m) => (op === 'LARGER' ? m.folder.size > octets : m.folder.size < octets), args: [atom(op), atom(String(octets))] };
    }
    if (kind === 4) {
      const op = pick(['BEFORE', 'ON', 'SINCE']);
      const sent = next() < 0.5;
      const d = day();
      const name = `${sent ? 'SENT' : ''}${op}`;
      const test = (m: NaiveMessage) => compare(op, sent ? m.sentDay : dayOf(m.folder.receivedAt), d);
      return { k: 'atom', name: `${name} ${imapDate(d)}`, test, args: [atom(name), atom(imapDate(d))] };
    }
    const field = pick(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT', 'BODY', 'TEXT', 'HEADER X-Mailer', 'HEADER Reply-To', 'HEADER Message-ID']);
    const headerName = field.startsWith('HEADER ') ? field.slice(7).toLowerCase() : field.toLowerCase();
    const message = pick(messages);
    const texts =
      field === 'BODY' ? [...message.bodies] : field === 'TEXT' ? [...message.bodies, ...message.headers.map(([n, v]) => `${n}: ${v}`)] : message.headers.filter(([n]) => n === headerName).map(([, v]) => v);
    const value = needle(texts);
    const lower = value.toLowerCase();
    const test = (m: NaiveMessage) => {
      const inHeader = (name: string) => m.headers.some(([n, v]) => n === name && v.includes(lower));
      if (field === 'BODY') return lower === '' || m.bodies.some((b) => b.includes(lower));
      if (field === 'TEXT') return m.headers.some(([n, v]) => `${n}: ${v}`.includes(lower)) || m.bodies.some((b) => b.includes(lower));
      return inHeader(headerName);
    };
    const keyArgs = field.startsWith('HEADER ') ? [atom('HEADER'), atom(field.slice(7))] : [atom(field)];
    return { k: 'atom', name: `${field} ${JSON.stringify(value)}`, test, args: [...keyArgs, str(value)] };
  };

  const tree = (depth: number): Tree => {
    const r = next();
    if (depth >= 3 || r < 0.45) return leaf();
    if (r < 0.6) return { k: 'not', a: tree(depth + 1) };
    if (r < 0.8) return { k: 'or', a: tree(depth + 1), b: tree(depth + 1) };
    return { k: 'and', items: Array.from({ length: 2 + int(2) }, () => tree(depth + 1)) };
  };
  return tree;
}

function render(tree: Tree): ImapValue[] {
  switch (tree.k) {
    case 'atom':
      return tree.args;
    case 'not':
      return [atom('NOT'), ...render(tree.a)];
    case 'or':
      return [atom('OR'), ...render(tree.a), ...render(tree.b)];
    case 'and':
      return list(...tree.items.flatMap(render));
  }
}

function describeTree(tree: Tree): string {
  switch (tree.k) {
    case 'atom':
      return tree.name;
    case 'not':
      return `NOT ${describeTree(tree.a)}`;
    case 'or':
      return `OR ${describeTree(tree.a)} ${describeTree(tree.b)}`;
    case 'and':
      return `(${tree.items.map(describeTree).join(' ')})`;
  }
}

function naive(tree: Tree, m: NaiveMessage, count: number): boolean {
  switch (tree.k) {
    case 'atom':
      return tree.test(m, count);
    case 'not':
      return !naive(tree.a, m, count);
    case 'or':
      return naive(tree.a, m, count) || naive(tree.b, m, count);
    case 'and':
      return tree.items.every((item) => naive(item, m, count));
  }
}

function randomSuite(): void {
  describe('random search key trees', () => {
    it('answer what a naive evaluator reading every message answers', async () => {
      const messages = await naiveMessages();
      const seed = 20261207;
      const tree = generator(random(seed), messages);
      let matchedSome = 0;
      for (let i = 0; i < 250; i++) {
        const t = tree(0);
        // The top level is an AND of what the tree renders to (a group renders as one list).
        const expected = messages.filter((m) => naive(t, m, messages.length)).map((m) => labelOf.get(m.folder.id));
        const context = contextOf();
        const got = await search(render(t), context);
        expect(got, `seed ${seed}, tree ${i}: ${describeTree(t)}`).toEqual(expected);
        for (const { within } of context.asked) for (const id of within ?? []) expect(view.some((m) => m.id === id)).toBe(true);
        if (expected.length > 0 && expected.length < messages.length) matchedSome++;
      }
      // The trees are not all trivial: many pick some messages and not others.
      expect(matchedSome).toBeGreaterThan(80);
    });
  });
}

/** Every FolderAccess answers from the store Kotak runs on: the store's narrowing must hold every match in both. */
describe('over the SQLite store', () => {
  beforeAll(async () => {
    store = await openSqliteStore(join(dir, 'search.db'), { log: pino({ level: 'silent' }), syncCommits: false });
    await fill();
  });
  afterAll(async () => {
    await store?.close();
  });
  keySuite();
  randomSuite();
});

describe('over the PostgreSQL store', () => {
  let server: RunningPostgres;
  beforeAll(async () => {
    server = await startPostgres();
    store = await openPostgresStore(await server.createDatabase('imap_search'), { log: pino({ level: 'silent' }) });
    await fill();
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  keySuite();
  randomSuite();
});
