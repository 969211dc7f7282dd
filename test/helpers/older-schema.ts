/**
 * Databases as the builds before migration 011 wrote them: migrations up to a given one only, and
 * messages inserted through that schema's message_ingest view (migrations 008–010) with the
 * values the store of those builds gave it: raw bytes, text and HTML stored as they are. The store
 * of today no longer writes that schema, so tests of a migration fill the older database here.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { addressSearchText, nulFreeAddress, summarize } from '../../src/mail/summary.js';
import { DEFAULT_ROUTE_RULE, type NewMessage } from '../../src/mail/types.js';
import { migrate } from '../../src/store/migrate.js';
import { MAX_INDEXED_BODY_CHARS } from '../../src/store/fts-indexer.js';
import { openConnection, type Connection } from '../../src/store/sqlite-driver.js';

/** A database at `path` with migrations 001 to `last` (at least 008) applied; open, for rows to be inserted. */
export async function openAtSchema(path: string, last: number, scratch: string): Promise<Connection> {
  const older = join(scratch, `migrations-upto-${last}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(older, { recursive: true });
  const source = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));
  for (const name of readdirSync(source).filter((f) => Number.parseInt(f, 10) <= last)) copyFileSync(join(source, name), join(older, name));
  const db = await openConnection(path);
  await migrate(db, pathToFileURL(`${older}/`));
  return db;
}

/** Inserts the message as seq `seq`, as the store did at schemas 008–010 (its index text pending). */
export async function insertAsBefore011(db: Connection, seq: number, message: NewMessage): Promise<void> {
  const summary = summarize(message);
  const parsed = message.parsed.ok ? message.parsed.message : null;
  const replyTo = (parsed?.replyTo ?? []).map(nulFreeAddress);
  const from = summary.from ? [summary.from] : [];
  const envelopeAddresses = [message.envelope.mailFrom, ...message.envelope.rcptTo].join(' ');
  const text = parsed?.text ?? '';
  const addresses = `${addressSearchText([...from, ...summary.to, ...summary.cc, ...summary.bcc, ...replyTo])} ${envelopeAddresses}`;
  const htmlText = (parsed?.htmlText ?? '').slice(0, MAX_INDEXED_BODY_CHARS);
  const attachments = (parsed?.attachments ?? []).map((a) => a.filename ?? '').join(' ');
  const values = [
    seq, message.id, message.mailbox, message.routeRule ?? DEFAULT_ROUTE_RULE, message.receivedAt, summary.size, 0, summary.subject, summary.snippet,
    summary.messageId, parsed?.date ?? null,
    summary.from ? JSON.stringify(summary.from) : null, JSON.stringify(summary.to), JSON.stringify(summary.cc), JSON.stringify(summary.bcc), JSON.stringify(replyTo),
    addressSearchText(from), addressSearchText(summary.to), addressSearchText(summary.cc), addressSearchText(summary.bcc), addressSearchText(replyTo),
    summary.hasAttachments ? 1 : 0, parsed?.attachments.some((a) => a.inline) ? 1 : 0,
    JSON.stringify(message.envelope), message.parsed.ok ? null : message.parsed.error,
    parsed?.text ?? null, parsed?.html ?? null, JSON.stringify(parsed?.headers ?? []), JSON.stringify(parsed?.attachments ?? []),
    message.raw, null,
    addresses, htmlText, attachments, addresses.length + Math.min(MAX_INDEXED_BODY_CHARS, text.length + htmlText.length) + attachments.length,
  ];
  await db.run(
    `INSERT INTO message_ingest (seq, id, mailbox, route_rule, received_at, size, read, subject, snippet, message_id, date_header,
       from_json, to_json, cc_json, bcc_json, reply_to_json, from_search, to_search, cc_search, bcc_search, reply_to_search,
       has_attachments, has_inline, envelope_json, parse_error, text, html, headers_json, attachments_json, raw, raw_file,
       fts_addresses, fts_html_text, fts_attachments, fts_bytes)
     VALUES (${values.map(() => '?').join(', ')})`,
    values,
  );
}

/** What the indexer of those builds did for the pending messages up to `seq`: moves them into the index. */
export async function indexUpTo(db: Connection, seq: number): Promise<void> {
  await db.run('DELETE FROM message_fts_pending WHERE seq <= ?', [seq]);
}
