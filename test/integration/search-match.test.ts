/**
 * The waiters' in-memory matcher (src/mail/search-match.ts) must agree with the database on
 * every term it decides. Differential test: many queries × many messages, both ways.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/mail/id.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { matchSummary } from '../../src/mail/search-match.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import type { Address, NewMessage } from '../../src/mail/types.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const addr = (address: string, name = ''): Address => ({ name, address });

function message(fields: { from: Address; to: Address[]; cc?: Address[]; subject: string; messageId?: string; rcpt?: string[]; size?: number; attach?: boolean; at: number; mailbox?: string }): NewMessage {
  const body = 'x'.repeat(fields.size ?? 10);
  return {
    id: newMessageId(),
    mailbox: fields.mailbox ?? 'default',
    receivedAt: fields.at,
    envelope: { mailFrom: fields.from.address, rcptTo: fields.rcpt ?? fields.to.map((a) => a.address), clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${fields.subject}\r\n\r\n${body}\r\n`),
    parsed: {
      ok: true,
      message: {
        from: fields.from, to: fields.to, cc: fields.cc ?? [], bcc: [], replyTo: [], subject: fields.subject, messageId: fields.messageId ?? null,
        date: null, text: body, html: null, htmlText: null, headers: [],
        attachments: fields.attach ? [{ id: '2', filename: 'a.pdf', contentType: 'application/pdf', size: 10, contentId: null, inline: false }] : [],
        snippet: body,
      },
    },
  };
}

const DAY = 86_400_000;
const BASE = Date.parse('2026-11-20T12:00:00Z');

const MESSAGES = [
  message({ from: addr('alice@example.com', 'Alice Ämberg'), to: [addr('bob@corp.test')], subject: 'Welcome to Kotak', messageId: '<abc.123@mail.example.com>', at: BASE }),
  message({ from: addr('NoReply@Shop.TEST', 'Shop'), to: [addr('Carol@Example.com', 'Carol C')], cc: [addr('dave@corp.test')], subject: 'Your ORDER #42 has shipped', at: BASE + DAY, size: 5000, attach: true }),
  message({ from: addr('ünïcode@exämple.test'), to: [addr('Ödön@exämple.test', 'Ödön')], subject: 'Grüße aus KÖLN', at: BASE + 2 * DAY, mailbox: 'w3' }),
  message({ from: addr('qa+signup-7@kotak.test'), to: [addr('t-1a2b@kotak.test')], subject: 'Confirm 50% off_now', rcpt: ['t-1a2b@kotak.test', 'hidden@corp.test'], at: BASE + 3 * DAY, mailbox: 'w3.b_c-1' }),
  // NULs, as decoded headers can hold them (=?utf-8?q?abc=00def?=): SQLite's LIKE stops at one, the matcher would not.
  message({
    from: addr('nul@x.test', 'Ann\0Bee'), to: [addr('ghi\0jkl@x.test')], cc: [addr('cc@x.test', 'Mno\0Pqr')], subject: 'abc\0def', messageId: '<stu\0vwx@x.test>',
    rcpt: ['ghi\0jkl@x.test', 'hid\0den@x.test'], at: BASE + 4 * DAY,
  }),
];

const QUERIES = [
  'to:bob', 'to:BOB@corp', 'to:carol', 'to:"carol c"', 'from:alice', 'from:ämberg', 'from:ÄMBERG', 'from:shop.test', 'from:noreply',
  'cc:dave', 'bcc:hidden', 'bcc:t-1a2b', 'to:t-1a2b@kotak.test', 'subject:welcome', 'subject:order', 'subject:#42', 'subject:köln',
  'subject:KÖLN', 'subject:grüße', 'subject:50%', 'subject:off_now', 'subject:"has shipped"', 'message-id:abc.123', 'message-id:ABC',
  'is:unread', 'is:read', 'has:attachment', '-has:attachment', 'larger:1kb', 'smaller:1kb', 'before:2026-11-22', 'after:2026-11-22',
  '-to:bob', '-from:alice subject:welcome', 'to:corp from:shop', 'from:qa+signup', 'to:ödön', 'to:ÖDÖN',
  'subject:def', 'subject:abc', '-subject:def', 'from:bee', 'to:jkl', 'cc:pqr', 'bcc:den', 'message-id:vwx', 'subject:"abc\uFFFDdef"',
  'mailbox:default', 'mailbox:DEFAULT', 'mailbox:w3', 'mailbox:W3', '-mailbox:w3', '!mailbox:default', 'mailbox:w3.b_c-1', 'mailbox:W3.B_C-1', 'mailbox:w',
  'mailbox:w3.b', 'mailbox:nobody', 'mailbox:w3 subject:köln', 'mailbox:w3 -subject:köln', '-mailbox:default -mailbox:w3', 'mailbox:"w3"',
];

describe('in-memory matching agrees with the database', () => {
  it(`on ${QUERIES.length} queries × ${MESSAGES.length} messages`, async () => {
    const store = await openSqliteStore(':memory:', { log: pino({ level: 'silent' }) });
    try {
      const summaries = await Promise.all(MESSAGES.map((m) => store.insert(m)));
      const disagreements: string[] = [];
      let decided = 0;
      for (const text of QUERIES) {
        const query = parseSearchQuery(text);
        const inDb = new Set((await store.find(ALL_MAILBOXES, { query, limit: 100 })).map((m) => m.id));
        for (const summary of summaries) {
          const result = matchSummary(query, summary);
          if (result === 'undecided') continue;
          decided += 1;
          if ((result === 'match') !== inDb.has(summary.id)) disagreements.push(`${text} on "${summary.subject}": memory ${result}, database ${inDb.has(summary.id)}`);
        }
      }
      expect(disagreements).toEqual([]);
      expect(decided).toBe(QUERIES.length * MESSAGES.length);
    } finally {
      await store.close();
    }
  });

  it('finds header text after a NUL, which the list shows as U+FFFD', async () => {
    const store = await openSqliteStore(':memory:', { log: pino({ level: 'silent' }) });
    try {
      const summary = await store.insert(MESSAGES[MESSAGES.length - 1]!);
      expect(summary.subject).toBe('abc\uFFFDdef');
      expect(summary.from).toEqual({ name: 'Ann\uFFFDBee', address: 'nul@x.test' });
      for (const text of ['subject:def', 'from:bee', 'to:jkl', 'cc:pqr', 'bcc:den', 'message-id:vwx']) {
        expect((await store.find(ALL_MAILBOXES, { query: parseSearchQuery(text), limit: 10 })).map((m) => m.id), text).toEqual([summary.id]);
      }
    } finally {
      await store.close();
    }
  });

  it('leaves full-text, Reply-To and inline terms to the database', () => {
    const summary = { id: 'x', mailbox: 'default', receivedAt: new Date().toISOString(), from: null, to: [], cc: [], bcc: [], subject: 's', snippet: '', size: 1, hasAttachments: false, read: false, messageId: null, tags: [] };
    for (const text of ['hello', '"a phrase"', 'reply-to:x', 'addressed:x', 'has:inline']) {
      expect(matchSummary(parseSearchQuery(text), summary)).toBe('undecided');
    }
    // A decided failure settles an AND, whatever the undecided terms would say.
    expect(matchSummary(parseSearchQuery('hello subject:nope'), summary)).toBe('no-match');
  });
});
