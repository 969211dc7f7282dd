/**
 * The store half of IMAP SEARCH's narrowing (issue 21), as part of the MessageStore contract: the
 * `may-contain` and `may-be-sent` terms (src/mail/search-query.ts, store/may-match.ts) answer the
 * same in every store, and never drop a message IMAP's exact check (src/imap/search/message-text.ts)
 * would match: checked case by case (non-ASCII case, encoded words, HTML-only, cut and raw bodies),
 * then over the real mail of test/fixtures/corpus with needles cut from what IMAP itself reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { narrowingQuery, sentNarrowingQuery } from '../../src/imap/search/narrowing.js';
import { bodyTexts, messageTexts, textMatches } from '../../src/imap/search/message-text.js';
import type { StringTarget } from '../../src/imap/search/keys.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import type { MayContainTerm, SearchQuery } from '../../src/mail/search-query.js';
import type { NewMessage } from '../../src/mail/types.js';
import type { MessageStore } from '../../src/store/types.js';
import { newMessageFromRaw, rawMessage } from '../helpers/new-message.js';
import type { OpenStore } from './message-store-contract.js';
import { seededRandom as random } from '../helpers/random.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);

const contains = (where: MayContainTerm['in'], value: string, field: string | null = null): SearchQuery => ({
  terms: [{ kind: 'may-contain', in: where, field, value, negated: false }],
});
const sent = (from: number | null, to: number | null): SearchQuery => ({ terms: [{ kind: 'may-be-sent', from, to, negated: false }] });

/** The message as ingest stores it; one the parser refuses is kept raw, as Kotak keeps it. */
async function stored(raw: Buffer, id?: string): Promise<NewMessage> {
  try {
    return await newMessageFromRaw(raw, id ? { id } : {});
  } catch {
    const base = await newMessageFromRaw(rawMessage(['Subject: placeholder', '', 'x']), id ? { id } : {});
    return { ...base, raw, parsed: { ok: false, error: 'refused by the parser' } };
  }
}

export function describeNarrowingContract(open: OpenStore): void {
  describe("IMAP SEARCH's narrowing terms (may-contain, may-be-sent, text-unknown)", () => {
    it('match by the stored texts, and keep every message the store cannot tell about', async () => {
      const opened = await open();
      const store = opened.store;
      try {
        const messages: Record<string, string[]> = {
          plain: ['From: a@example.test', 'Subject: Plain', 'Date: Mon, 7 Dec 2026 23:30:00 -0800', 'X-Note: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=', '', 'Your ORDER 1234 is Ärgerlich.'],
          kelvin: ['From: a@example.test', 'Subject: Kelvin', 'Content-Type: text/plain; charset=utf-8', '', '300 \u212Aelvin outside'],
          kelvinsubject: ['From: a@example.test', 'Subject: =?UTF-8?Q?300_=E2=84=AAelvin?=', '', 'cold'],
          markup: ['From: a@example.test', 'Subject: Markup', 'Content-Type: text/html; charset=utf-8', '', '<p>Re<b>order</b> now: A &amp; B</p>'],
          shy: ['From: a@example.test', 'Subject: Shy', 'Content-Type: text/html; charset=utf-8', '', '<p>Or&shy;der</p>'],
          numeric: ['From: a@example.test', 'Subject: Numeric', 'Content-Type: text/html; charset=utf-8', '', '<p>O&#114;der</p>'],
          oddname: ['From: a@example.test', 'Subject: Odd name', 'Ünïcode-Name: v', 'Date: 7 Dec 126 10:00 +0000', '', 'nothing'],
        };
        const ids = new Map<string, string>();
        for (const [name, lines] of Object.entries(messages)) ids.set((await store.insert(await stored(rawMessage(lines)))).id, name);
        // Cut: only the first part of its text is stored (as for a large spooled message).
        const cutBase = await newMessageFromRaw(rawMessage(['From: a@example.test', 'Subject: Cut', '', 'head of the text tail-marker']));
        if (!cutBase.parsed.ok) throw new Error('the cut message parses');
        const cut = { ...cutBase, parsed: { ok: true as const, message: { ...cutBase.parsed.message, text: 'head of the', textCut: true as const } } };
        ids.set((await store.insert(cut)).id, 'cut');
        const raw = await newMessageFromRaw(rawMessage(['From: a@example.test', 'Subject: Raw', '', 'x']));
        ids.set((await store.insert({ ...raw, parsed: { ok: false, error: 'too many parts' } })).id, 'raw');

        const found = async (query: SearchQuery, among: readonly string[] | null = null) => {
          const within = among === null ? null : [...ids].filter(([, name]) => among.includes(name)).map(([id]) => id);
          const answer = await store.find(ALL_MAILBOXES, { query, ids: within, limit: 100 });
          return answer.map((m) => ids.get(m.id)).sort();
        };
        // The body: ASCII letters folded; cut and raw bodies always; a Kelvin sign lower-cases to "k".
        expect(await found(contains('body', 'rder'))).toEqual(['cut', 'kelvin', 'markup', 'numeric', 'plain', 'raw', 'shy']);
        expect(await found(contains('body', 'kelvin'))).toEqual(['cut', 'kelvin', 'numeric', 'raw', 'shy']);
        expect(await found(contains('body', 'rgerlich'))).toEqual(['cut', 'kelvin', 'numeric', 'plain', 'raw', 'shy']);
        // HTML: the markup's pieces between what an entity or a tag may stand for; tags are blanks in the text.
        expect(await found(contains('body', 'a&b'))).toEqual(['cut', 'kelvin', 'markup', 'numeric', 'raw', 'shy']);
        expect(await found(contains('body', 'zzq'))).toEqual(['cut', 'kelvin', 'numeric', 'raw', 'shy']);
        // Among given ids only.
        expect(await found(contains('body', 'rder'), ['plain', 'markup', 'raw'])).toEqual(['markup', 'plain', 'raw']);
        // A header field by name (encoded words decoded), or any field as "name: value".
        expect(await found(contains('header', 'aus', 'x-note'))).toEqual(['kelvinsubject', 'plain', 'raw']);
        expect(await found(contains('header', 'aus', 'x-other'))).toEqual(['kelvinsubject', 'raw']);
        expect(await found(contains('header', 'x-note:'))).toEqual(['kelvinsubject', 'oddname', 'plain', 'raw']);
        expect(await found(contains('header', 'subject:'))).toEqual(['cut', 'kelvin', 'kelvinsubject', 'markup', 'numeric', 'oddname', 'plain', 'raw', 'shy']);
        // A header holding a Kelvin sign (it lower-cases to "k") is always a candidate.
        expect(await found(contains('header', 'zzq'))).toEqual(['kelvinsubject', 'oddname', 'raw']);
        // TEXT: either.
        expect(await found(contains('text', 'aus'))).toEqual(['cut', 'kelvin', 'kelvinsubject', 'numeric', 'oddname', 'plain', 'raw', 'shy']);
        expect(await found(contains('text', 'markup'))).toEqual(['cut', 'kelvin', 'kelvinsubject', 'markup', 'numeric', 'oddname', 'raw', 'shy']);
        // What the store cannot vouch for: a cut text or a raw message (body), a raw message (header).
        expect(await found({ terms: [{ kind: 'text-unknown', in: 'body', negated: false }] })).toEqual(['cut', 'raw']);
        // In the header also a subject holding a character the subject column's folding misses.
        expect(await found({ terms: [{ kind: 'text-unknown', in: 'header', negated: false }] })).toEqual(['kelvinsubject', 'raw']);
        // The Date as the store read it (plain: 2026-12-08T07:30Z); none, or a 3-digit year, always.
        const dec8 = Date.UTC(2026, 11, 8);
        expect(await found(sent(dec8, dec8 + 86_400_000))).toEqual(['cut', 'kelvin', 'kelvinsubject', 'markup', 'numeric', 'oddname', 'plain', 'raw', 'shy']);
        expect((await found(sent(dec8 + 86_400_000, null))).includes('plain')).toBe(false);
        expect((await found(sent(null, dec8))).includes('plain')).toBe(false);
        expect(await found(sent(null, dec8 + 8 * 3_600_000), ['plain', 'oddname'])).toEqual(['oddname', 'plain']);
      } finally {
        await opened.close();
      }
    });

    it('never drop a message that IMAP matches, over the real mail of test/fixtures/corpus', async () => {
      const opened = await open();
      const store: MessageStore = opened.store;
      try {
        const next = random(21);
        const files = readdirSync(CORPUS).filter((name) => name.endsWith('.eml'));
        let asked = 0;
        const dropped: string[] = [];
        for (const file of files) {
          const raw = readFileSync(new URL(file, CORPUS));
          const id = (await store.insert(await stored(raw))).id;
          const texts = messageTexts(raw);
          const bodies = await bodyTexts(raw);
          /** A few random pieces of `text`, half of them upper-cased: IMAP matches without regard to case. */
          const needles = (text: string, n: number) =>
            Array.from({ length: n }, () => {
              const start = Math.floor(next() * text.length);
              const piece = text.slice(start, start + 1 + Math.floor(next() * 14));
              return next() < 0.5 ? piece.toUpperCase() : piece;
            });
          const probes: [StringTarget, string][] = [
            ...texts.headers.flatMap((field): [StringTarget, string][] => needles(field.value, 1).map((needle) => [{ kind: 'header', name: field.name }, needle])),
            ...texts.headers.flatMap((field): [StringTarget, string][] => needles(`${field.name}: ${field.value}`, 1).map((needle) => [{ kind: 'text' }, needle])),
            ...bodies.flatMap((body): [StringTarget, string][] => needles(body, 4).flatMap((needle): [StringTarget, string][] => [[{ kind: 'body' }, needle], [{ kind: 'text' }, needle]])),
          ];
          const withBody = { ...texts, body: bodies };
          // What the store can know of: the fields whose name is an RFC 5322 name (IMAP also reads an
          // mbox "From " line as a field, which no parser keeps; docs/IMAP.md says so).
          const fieldsOnly = { ...withBody, headers: texts.headers.filter((field) => /^[\x21-\x39\x3b-\x7e]+$/.test(field.name)) };
          for (const [target, needle] of probes) {
            const query = narrowingQuery(target, needle);
            if (query === null) continue;
            if (!textMatches(fieldsOnly, target, needle.toLowerCase())) continue;
            asked++;
            const answer = await store.find(ALL_MAILBOXES, { query, ids: [id], limit: 1 });
            if (answer.length === 0) dropped.push(`${file}: ${JSON.stringify(target)} ${JSON.stringify(needle)} as ${JSON.stringify(query.terms)}`);
          }
          if (texts.sentDay !== null) {
            for (const op of ['before', 'on', 'since'] as const) {
              const day = op === 'before' ? texts.sentDay + 1 : texts.sentDay;
              asked++;
              if ((await store.find(ALL_MAILBOXES, { query: sentNarrowingQuery(op, day), ids: [id], limit: 1 })).length === 0) dropped.push(`${file}: SENT${op} ${day}`);
            }
          }
        }
        expect(dropped).toEqual([]);
        expect(asked).toBeGreaterThan(500);
      } finally {
        await opened.close();
      }
    });
  });
}

