/**
 * Messages in named mailboxes, before routing puts SMTP mail there: written straight into a
 * database file, which a Kotak then started on that file (`db`) serves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { newMessageId } from '../../src/mail/id.js';
import type { MessageSummary, NewMessage } from '../../src/mail/types.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

let clock = Date.UTC(2026, 0, 1);

/** A small parsed message in `mailbox`; each one received a second after the previous. */
export function mailboxMessage(mailbox: string, subject: string): NewMessage {
  clock += 1000;
  return {
    id: newMessageId(clock),
    mailbox,
    receivedAt: clock,
    envelope: { mailFrom: 'a@x.test', rcptTo: ['b@x.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`),
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: 'a@x.test' }, to: [{ name: '', address: 'b@x.test' }], cc: [], bcc: [], replyTo: [],
        subject, messageId: null, date: null, text: 'body', html: null, htmlText: null, headers: [], attachments: [], snippet: 'body',
      },
    },
  };
}

export interface SeededDatabase {
  /** The database file, for `withKotak({ db })`. */
  readonly db: string;
  /** The stored summaries, in the order given. */
  readonly summaries: readonly MessageSummary[];
  remove(): void;
}

/** A new database file holding these messages (`[mailbox, subject]` pairs). */
export async function seedMailboxes(messages: readonly (readonly [mailbox: string, subject: string])[]): Promise<SeededDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-mailboxes-'));
  const db = join(dir, 'kotak.db');
  const store = await openSqliteStore(db, { log: pino({ level: 'silent' }) });
  const summaries: MessageSummary[] = [];
  try {
    for (const [mailbox, subject] of messages) summaries.push(await store.insert(mailboxMessage(mailbox, subject)));
  } finally {
    await store.close();
  }
  return { db, summaries, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
