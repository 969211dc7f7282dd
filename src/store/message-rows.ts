/**
 * Message rows as both stores read them (store/sqlite.ts, store/pg/message-store.ts): the columns
 * they share, turned into the summary and the detail. Each store reads its own flags, tags and
 * bodies first (SQLite's integers and packed texts, PostgreSQL's booleans and JSON for NULs).
 */
import type { Address, AttachmentInfo, Envelope, Header, MessageDetail, MessageSummary } from '../mail/types.js';
import type { FolderEntry } from './types.js';

export interface SummaryColumns {
  id: string;
  mailbox: string;
  received_at: number;
  size: number;
  subject: string;
  snippet: string;
  message_id: string | null;
  from_json: string | null;
  to_json: string;
  cc_json: string;
  bcc_json: string;
}

export interface DetailColumns {
  mailbox: string;
  route_rule: string;
  reply_to_json: string;
  envelope_json: string;
  date_header: number | null;
  attachments_json: string | null;
}

/** Tags ordered as `ORDER BY name` on SQLite's NOCASE column: ASCII folded, then by code unit. */
export function byTagName(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The columns of an IMAP folder entry both stores read alike (FOLDER_COLUMNS in each). */
export interface FolderColumns {
  seq: number;
  id: string;
  mailbox: string;
  size: number;
  received_at: number;
}

export function folderEntryOf(row: FolderColumns, flags: { readonly read: boolean; readonly flagged: boolean; readonly deleted: boolean; readonly tags: string[] }): FolderEntry {
  return {
    id: row.id,
    mailbox: row.mailbox,
    seq: row.seq,
    size: row.size,
    receivedAt: row.received_at,
    read: flags.read,
    flagged: flags.flagged,
    deleted: flags.deleted,
    tags: flags.tags.sort(byTagName),
  };
}

export function summaryOf(row: SummaryColumns, flags: { readonly hasAttachments: boolean; readonly read: boolean; readonly tags: string[] }): MessageSummary {
  return {
    id: row.id,
    mailbox: row.mailbox,
    receivedAt: new Date(row.received_at).toISOString(),
    from: row.from_json ? (JSON.parse(row.from_json) as Address) : null,
    to: JSON.parse(row.to_json) as Address[],
    cc: JSON.parse(row.cc_json) as Address[],
    bcc: JSON.parse(row.bcc_json) as Address[],
    subject: row.subject,
    snippet: row.snippet,
    size: row.size,
    hasAttachments: flags.hasAttachments,
    read: flags.read,
    messageId: row.message_id,
    tags: flags.tags.sort(byTagName),
  };
}

export function detailOf(
  summary: MessageSummary,
  row: DetailColumns,
  read: { readonly text: string | null; readonly html: string | null; readonly headers: Header[]; readonly textCut: boolean; readonly parseError: string | null },
): MessageDetail {
  // SMTP warnings travel with the envelope (no column of their own) and are shown beside it.
  const { smtpWarnings, ...envelope } = JSON.parse(row.envelope_json) as Envelope;
  const detail: MessageDetail = {
    ...summary,
    route: { mailbox: row.mailbox, rule: row.route_rule },
    text: read.text,
    html: read.html,
    headers: read.headers,
    attachments: row.attachments_json ? (JSON.parse(row.attachments_json) as AttachmentInfo[]) : [],
    envelope,
    replyTo: JSON.parse(row.reply_to_json) as Address[],
    date: row.date_header === null ? null : new Date(row.date_header).toISOString(),
    ...(smtpWarnings?.length ? { smtpWarnings } : {}),
  };
  const withFlags = read.textCut ? { ...detail, textCut: true as const } : detail;
  return read.parseError === null ? withFlags : { ...withFlags, parseError: read.parseError };
}
