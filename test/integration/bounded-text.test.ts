/**
 * A large text message received into a spool file is parsed with each text part bounded to what
 * decodes to the first MAX_INDEXED_BODY_CHARS characters, and stored so (message_bodies.text_cut,
 * migration 012). Every reader still gets the whole text (store/full-text.ts); search sees the
 * first MAX_INDEXED_BODY_CHARS characters only, as the README says of the index.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { MAX_INDEXED_BODY_CHARS } from '../../src/store/fts-indexer.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { getJson, transport, withKotak } from '../helpers/kotak.js';
import { unpackText, type StoredText } from '../../src/store/blob-codec.js';
import { peek } from '../helpers/database-file.js';
import { insertAsBefore011, openAtSchema } from '../helpers/older-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-bounded-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

/** About `chars` characters of text: "early" words first, multi-byte characters throughout (or ASCII only), "latewalrus" at the end. */
function longText(chars: number, ascii = false): string {
  const line = ascii ? 'Greetings from Osaka, a line of the long body text here, 0123456789.' : 'Grüße aus Ōsaka, 大阪の街 — a line of the long body text here.';
  const lines = ['earlyotter begins the text', ...Array.from({ length: Math.ceil(chars / (line.length + 1)) }, (_, i) => `${i} ${line}`), 'latewalrus ends it'];
  return lines.join('\n');
}

const SHAPES = [
  { name: 'plain, 7bit, 20 MB', text: longText(20_000_000, true), textEncoding: undefined },
  // Past the kept bytes of their encoding (a few MB), not larger: the test stays fast.
  { name: 'plain, quoted-printable', text: longText(2_500_000), textEncoding: 'quoted-printable' },
  { name: 'plain, base64', text: longText(1_500_000), textEncoding: 'base64' },
  { name: 'html', html: `<html><body><p>${longText(2_500_000).replace(/\n/g, '</p>\n<p>')}</p></body></html>`, textEncoding: undefined },
] as const;

describe('large text bodies are stored bounded and read back whole', () => {
  it('stores the raw bytes as sent, serves the whole text, and searches the first 256 Ki characters', async () => {
    const db = join(dir, 'kotak.db');
    const kotak = await withKotak({ db });
    const ids: string[] = [];
    try {
      const mailer = transport(kotak);
      for (const shape of SHAPES) {
        const raw = await new MailComposer({
          from: 'a@example.com', to: 'b@example.com', subject: shape.name,
          ...('text' in shape ? { text: shape.text } : { html: shape.html }),
          ...(shape.textEncoding ? { textEncoding: shape.textEncoding } : {}),
        }).compile().build();
        const info = await mailer.sendMail({ envelope: { from: 'a@example.com', to: ['b@example.com'] }, raw });
        const id = /queued as (\S+)/.exec(info.response)![1]!;
        ids.push(id);
        const stored = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
        // What was sent: nodemailer's SMTP client writes the composer's bare line feeds as CRLF.
        expect(stored.equals(Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')), shape.name).toBe(true);
        const detail = (await getJson(kotak, `/api/messages/${id}`)).body as { text: string | null; html: string | null; textCut?: unknown };
        expect(detail.textCut, shape.name).toBeUndefined();
        if ('text' in shape) expect(detail.text?.trimEnd(), shape.name).toBe(shape.text);
        else expect(detail.html?.trimEnd(), shape.name).toBe(shape.html);
        const mailpit = (await getJson(kotak, `/api/v1/message/${id}`)).body as { Text: string; HTML: string };
        // (Mailpit's Text of an HTML-only message is converted from the first MAX_HTML_CHARS of it, whole or not.)
        expect(('text' in shape ? mailpit.Text : mailpit.HTML).includes('latewalrus'), shape.name).toBe(true);
      }
      mailer.close();
      const found = async (word: string): Promise<string[]> => ((await getJson(kotak, `/api/messages?query=${word}`)).body as { messages: { id: string }[] }).messages.map((m) => m.id).sort();
      // A word at the start is in the stored text; one past the bound is not (nor in the index).
      expect(await found('earlyotter')).toEqual([...ids].sort());
      expect(await found('latewalrus')).toEqual([]);
    } finally {
      await kotak.stop();
    }
    // Packed when long (blob-codec.ts): unpacked here as the store reads them.
    const rows = (await peek(db, (c) => c.all<{ text: StoredText; html: StoredText; cut: number }>('SELECT text, html, text_cut AS cut FROM message_bodies ORDER BY seq'))).map((r) => ({
      text: unpackText(r.text),
      html: unpackText(r.html),
      cut: r.cut,
    }));
    expect(rows.map((r) => r.cut)).toEqual(SHAPES.map(() => 1));
    // Exactly the first MAX_INDEXED_BODY_CHARS characters, wherever the cut fell in the encoding
    // (a quoted-printable escape, a base64 group, a multi-byte character).
    for (const [i, shape] of SHAPES.entries()) {
      const stored = 'text' in shape ? rows[i]!.text : rows[i]!.html;
      const whole = 'text' in shape ? shape.text : shape.html;
      expect(stored, shape.name).toBe(whole.slice(0, MAX_INDEXED_BODY_CHARS));
    }
  });

  it('migrates a database made at schema 010: its messages keep their whole text, uncut', async () => {
    const path = join(dir, 'old.db');
    const text = longText(400_000);
    // Written as the schema-010 store wrote rows (its message_ingest columns, no text_cut).
    const old = await openAtSchema(path, 10, dir);
    await insertAsBefore011(old, 1, {
      id: '01OLDMESSAGE0000000000001', mailbox: 'default', receivedAt: Date.now(), raw: Buffer.from(`Subject: old\r\n\r\n${text}`),
      envelope: { mailFrom: 'a@example.com', rcptTo: ['b@example.com'], clientAddress: '127.0.0.1', heloName: 'x', user: null, tls: false },
      parsed: { ok: true, message: { from: null, to: [], cc: [], bcc: [], replyTo: [], subject: 'old', messageId: null, date: null, text, html: null, htmlText: null, headers: [], attachments: [], snippet: 'earlyotter' } },
    });
    await old.close();
    const migrated = await openSqliteStore(path, { log, syncCommits: false });
    try {
      const after = await migrated.get(ALL_MAILBOXES, '01OLDMESSAGE0000000000001');
      expect(after!.subject).toBe('old');
      expect(after!.text).toBe(text);
      expect(after!.textCut).toBeUndefined();
      expect((await migrated.list(ALL_MAILBOXES, { query: parseSearchQuery('earlyotter'), limit: 5 })).messages.map((m) => m.id)).toEqual(['01OLDMESSAGE0000000000001']);
      // New messages go in with the new column.
      await migrated.insert({
        id: '01NEWMESSAGE0000000000001', mailbox: 'default', receivedAt: Date.now(), envelope: after!.envelope, raw: Buffer.from(`Subject: new\r\n\r\n${text}`),
        parsed: { ok: true, message: { from: null, to: [], cc: [], bcc: [], replyTo: [], subject: 'new', messageId: null, date: null, text, html: null, htmlText: null, headers: [], attachments: [], snippet: 'earlyotter' } },
      });
      expect((await migrated.get(ALL_MAILBOXES, '01NEWMESSAGE0000000000001'))!.text).toBe(text);
    } finally {
      await migrated.close();
    }
  });
});

