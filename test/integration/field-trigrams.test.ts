/**
 * The field operators (`from:`, `to:`, `cc:`, `bcc:`, `reply-to:`, `addressed:`, `subject:`,
 * `message-id:`) look values of 3 or more characters up in the trigram index of migration 010,
 * built behind the commit like the full-text index. Held here to "nothing gets less correct": a
 * search right after an acknowledged insert sees the message, a deleted message is never found,
 * the index answers exactly what the LIKE scan answers (find() scans; list() reads the index), and
 * a database made before migration 010 answers the same once migrated.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/mail/id.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import type { NewMessage } from '../../src/mail/types.js';
import { migrate } from '../../src/store/migrate.js';
import { openConnection } from '../../src/store/sqlite-driver.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { eventually } from '../helpers/browser.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-trigrams-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;
const newPath = () => join(dir, `store-${++databases}.db`);

interface Addresses {
  from?: string;
  to?: string;
  cc?: string;
  replyTo?: string;
  messageId?: string;
}

function message(subject: string, { from = 'App <app@example.test>', to = 'dev@example.test', cc, replyTo, messageId }: Addresses = {}): NewMessage {
  const address = (text: string) => {
    const m = /^(.*) <(.*)>$/.exec(text);
    return m ? { name: m[1]!, address: m[2]! } : { name: '', address: text };
  };
  const sender = address(from);
  return {
    id: newMessageId(),
    mailbox: 'default',
    receivedAt: Date.now(),
    envelope: { mailFrom: sender.address, rcptTo: [address(to).address, 'hidden@bcc.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`),
    parsed: {
      ok: true,
      message: {
        from: sender, to: [address(to)], cc: cc ? [address(cc)] : [], bcc: [], replyTo: replyTo ? [address(replyTo)] : [],
        subject, messageId: messageId ?? null, date: null, text: 'body', html: null, htmlText: null, headers: [], attachments: [], snippet: 'body',
      },
    },
  };
}

const CORPUS = [
  message('Café opening', { from: 'Zoë Müller <zoe@café.example>' }),
  message('Order shipped #4242', { to: 'OPS+Reset@Corp.Test', messageId: '<order-4242@shop.example>' }),
  message('Weekly digest 100% off_sale', { cc: 'team-leads@corp.test', replyTo: 'no-reply@news.example' }),
  message('注文確認のお知らせ', { from: 'shop@注文.example' }),
  message('Password reset', { from: 'Security Team <security@app.example.test>' }),
];

const QUERIES = [
  'from:app@example', 'from:zoë', 'from:ZOË', 'from:café.ex', 'from:"zoë mü"', 'from:注文.e', 'to:ops+reset', 'to:OPS+RESET@CORP', 'to:co',
  'cc:team-lead', 'bcc:hidden@bcc', 'reply-to:no-reply', 'addressed:corp.test', 'addressed:dev@', 'addressed:bcc.t',
  'subject:shipp', 'subject:CAFÉ', 'subject:café', 'subject:"#4242"', 'subject:100%', 'subject:off_s', 'subject:注文確', 'subject:ab',
  'message-id:<order-4242@shop.example>', 'message-id:4242@', '-from:app@example', 'from:app@example -subject:reset',
  'from:example subject:digest', 'addressed:xyz-nothing', 'subject:"order shipped" to:corp',
];

/** Subjects list() answers (the trigram index drives it) and find() answers (a scan with LIKE). */
async function both(store: SqliteStore, query: string): Promise<{ indexed: string[]; scanned: string[] }> {
  const parsed = parseSearchQuery(query);
  const indexed = (await store.list(ALL_MAILBOXES, { query: parsed, limit: 1000 })).messages.map((m) => m.subject).sort();
  const scanned = (await store.find(ALL_MAILBOXES, { query: parsed, limit: 1000 })).map((m) => m.subject).sort();
  return { indexed, scanned };
}

describe('the field operators on the trigram index', () => {
  it('answer exactly what the LIKE scan answers, indexed or still pending', async () => {
    const store = await openSqliteStore(newPath(), { log, syncCommits: false });
    try {
      for (const m of CORPUS.slice(0, 3)) await store.insert(m);
      await eventually(() => store.fullTextBacklog()).toBe(0);
      // The rest are acknowledged and not yet indexed when the questions come.
      for (const m of CORPUS.slice(3)) await store.insert(m);
      expect(await store.fullTextBacklog()).toBeGreaterThan(0);
      const answers = await Promise.all(QUERIES.map(async (q) => [q, await both(store, q)] as const));
      for (const [query, { indexed, scanned }] of answers) expect(indexed, query).toEqual(scanned);
      const subjects = Object.fromEntries(answers.map(([q, a]) => [q, a.indexed]));
      // And the answers are the right ones, not only equal.
      expect(subjects['from:ZOË']).toEqual(['Café opening']);
      expect(subjects['to:OPS+RESET@CORP']).toEqual(['Order shipped #4242']);
      expect(subjects['subject:café']).toEqual(['Café opening']);
      // The value is lower-cased before the LIKE, so case never matters; Unicode folding neither widens nor narrows it.
      expect(subjects['subject:CAFÉ']).toEqual(['Café opening']);
      expect(subjects['from:注文.e']).toEqual(['注文確認のお知らせ']);
      expect(subjects['addressed:corp.test']).toEqual(['Order shipped #4242', 'Weekly digest 100% off_sale']);
      expect(subjects['message-id:<order-4242@shop.example>']).toEqual(['Order shipped #4242']);
      expect(subjects['subject:100%']).toEqual(['Weekly digest 100% off_sale']);
      expect(subjects['from:app@example -subject:reset']).toEqual(['Order shipped #4242', 'Weekly digest 100% off_sale']);
    } finally {
      await store.close();
    }
  });

  it('see a message right after its insert is acknowledged, and never once it is deleted', async () => {
    const store = await openSqliteStore(newPath(), { log, syncCommits: false });
    const subjects = async (query: string) => (await store.list(ALL_MAILBOXES, { query: parseSearchQuery(query), limit: 100 })).messages.map((m) => m.subject);
    try {
      for (let i = 0; i < 60; i++) {
        const stored = await store.insert(message(`Receipt r${i}x`, { from: `shop${i}x@example.test`, to: `buyer${i}x@example.test` }));
        // Straight after the acknowledgement, with the indexer's own pass not yet due.
        expect(await subjects(`from:shop${i}x@`)).toEqual([`Receipt r${i}x`]);
        expect(await subjects(`to:buyer${i}x@`)).toEqual([`Receipt r${i}x`]);
        expect(await subjects(`subject:r${i}x`)).toEqual([`Receipt r${i}x`]);
        if (i % 2 === 0) {
          await store.delete(ALL_MAILBOXES, stored.id);
          expect(await subjects(`from:shop${i}x@`)).toEqual([]);
        }
      }
      // Deleted after being indexed: gone from the index's answers too.
      await eventually(() => store.fullTextBacklog()).toBe(0);
      const removed = await store.deleteMatching(ALL_MAILBOXES, parseSearchQuery('from:shop1x@'));
      expect(removed).toHaveLength(1);
      expect(await subjects('from:shop1x@')).toEqual([]);
      expect(await subjects('from:shop3x@')).toEqual(['Receipt r3x']);
      expect((await store.list(ALL_MAILBOXES, { query: parseSearchQuery('subject:receipt'), limit: 100 })).total).toBe(29);
    } finally {
      await store.close();
    }
  });

  it('answer the same on a database made before migration 010, indexed or pending when it ran', async () => {
    // Migrations 001–008 only, with three messages: two indexed by then, one still pending.
    const older = join(dir, 'migrations-008');
    mkdirSync(older);
    const source = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));
    for (const name of readdirSync(source).filter((f) => f < '009')) copyFileSync(join(source, name), join(older, name));
    const path = newPath();
    const db = await openConnection(path);
    await migrate(db, pathToFileURL(`${older}/`));
    const row = (seq: number, subject: string, from: string, to: string) =>
      db.run(
        `INSERT INTO message_ingest (seq, id, mailbox, route_rule, received_at, size, read, subject, snippet, message_id, date_header,
           from_json, to_json, cc_json, bcc_json, reply_to_json, from_search, to_search, cc_search, bcc_search, reply_to_search,
           has_attachments, has_inline, envelope_json, parse_error, text, html, headers_json, attachments_json, raw, raw_file,
           fts_addresses, fts_html_text, fts_attachments, fts_bytes)
         VALUES (?, ?, 'default', 'default', 0, 10, 0, ?, '', NULL, NULL, '{}', '[]', '[]', '[]', '[]', ?, ?, '', '', '', 0, 0, '{}', NULL,
           'body', NULL, '[]', '[]', x'00', NULL, ?, '', '', 10)`,
        [seq, `id${seq}`, subject, from, to, `${from} ${to}`],
      );
    await row(1, 'First order', 'shop@one.example', 'a@team.example');
    await row(2, 'Second order', 'shop@two.example', 'b@team.example');
    await row(3, 'Third order', 'shop@one.example', 'c@team.example');
    // What the indexer did before the stop: the first two moved into the full-text index.
    await db.run('DELETE FROM message_fts_pending WHERE seq <= 2');
    await db.close();

    const store = await openSqliteStore(path, { log, syncCommits: false });
    try {
      for (const query of ['from:shop@one', 'from:two.ex', 'to:@team.example', 'subject:order', 'subject:"third ord"', 'addressed:b@team']) {
        const { indexed, scanned } = await both(store, query);
        expect(indexed, query).toEqual(scanned);
      }
      expect((await both(store, 'from:shop@one')).indexed).toEqual(['First order', 'Third order']);
      expect((await both(store, 'to:@team.example')).indexed).toEqual(['First order', 'Second order', 'Third order']);
    } finally {
      await store.close();
    }
  });
});
