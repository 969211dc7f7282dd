/**
 * MessageStore on PostgreSQL (issue 20), answering as the SQLite store (src/store/sqlite.ts) does
 * for every method. Raw bytes are kept in the database (bytea), so no node needs a shared disk.
 * Inserts are group-committed: those that arrive while a batch commits join the next one, and
 * each resolves only after the COMMIT holding its row (synchronous_commit on). A batch takes an
 * advisory transaction lock, so that seqs are committed in order across nodes too: a cursor never
 * skips a message that commits after a newer one was read.
 */
import { open } from 'node:fs/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import { KotakError } from '../../errors.js';
import type { MailboxScope } from '../../mail/mailbox-scope.js';
import type { SearchQuery } from '../../mail/search-query.js';
import { nulFreeAddress, summarize, addressSearchText } from '../../mail/summary.js';
import { DEFAULT_ROUTE_RULE, type Address, type AttachmentInfo, type Envelope, type Header, type MessageDetail, type MessageSummary, type NewMessage, type SpooledRaw } from '../../mail/types.js';
import { inScope as mailboxInScope } from '../../mail/mailbox-scope.js';
import type { FindOptions, FlagsChanged, FolderEntry, ListOptions, MailboxCount, MessagePage, MessageStore, OffsetListOptions, OffsetPage, PruneLimits, RemovedMessage, StoreStats, SummaryExtras, TagCount } from '../types.js';
import { openPool, redactUrl } from './connection.js';
import { attachmentNames, readBody, searchColumns, storedBody, wellFormed } from './ingest-row.js';
import { writeBatchOrEach } from '../batch-write.js';
import { cursorPage } from '../cursor-page.js';
import { byTagName, detailOf, folderEntryOf, summaryOf, type DetailColumns, type FolderColumns, type SummaryColumns } from '../message-rows.js';
import { migratePostgres } from './migrate.js';
import { inPgTransaction } from './transaction.js';
import { compilePgSearch, SqlParams } from './search-sql.js';
import { storedMessageDrafts } from '../webhook-rows.js';
import { insertWebhookRows } from './webhook-store.js';

/** As sqlite.ts: a search's bounded total counts at most this many matches past the page. */
export const SEARCH_TOTAL_BOUND = 1_000;
/** A batch is cut at this many messages (bound parameters: 65,535 a statement) or raw bytes. */
const MAX_BATCH_MESSAGES = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Raw bytes are stored and read in parts of this size (migration 001's message_raw). */
const RAW_PART_BYTES = 1024 * 1024;
/** Deletions are performed in slices of this size, each its own transaction. */
const DELETE_SLICE = 5_000;
/** Ids per `= ANY(...)` where sqlite.ts slices them: results come in the same order. */
const ID_SLICE = 500;
/**
 * Ids per statement of the IMAP reads and writes: one array parameter whatever its length, so
 * larger than ID_SLICE (flagsOf of 10,000 ids: 425 ms in slices of 500, bench/folder-index.ts).
 */
const FOLDER_ID_SLICE = 5_000;
/** Advisory transaction locks: "kotakins" (inserts, for seq order) and "kotaktag" (tag changes). */
const INSERT_LOCK_KEY = '7741534246235893363';
const TAG_LOCK_KEY = '7741534246236610919';

export type PostgresStore = MessageStore;

export interface PostgresStoreOptions {
  readonly log: Logger;
  /** Connections at most (default 10). */
  readonly poolSize?: number;
  /** The clock of the webhook outbox rows an insert writes (created and due then); default Date.now. */
  readonly now?: () => number;
}

interface PendingInsert {
  readonly message: NewMessage;
  /** Raw bytes to count against a batch's bound: in memory, or in the spool file. */
  readonly bytes: number;
  /** Replaced once written when the message has tags: by their stored spellings. */
  summary: MessageSummary;
  readonly resolve: (summary: MessageSummary) => void;
  readonly reject: (err: unknown) => void;
}

interface SummaryRow extends SummaryColumns {
  seq: number;
  read: boolean;
  has_attachments: boolean;
  tags: string[];
}

interface DetailRow extends SummaryRow, DetailColumns {
  parse_error_json: string | null;
  text: string | null;
  text_json: string | null;
  html: string | null;
  html_json: string | null;
  headers_json: string | null;
  text_cut: boolean | null;
}

const SUMMARY_COLUMNS =
  'm.seq, m.id, m.mailbox, m.received_at, m.size, m.read, m.subject, m.snippet, m.message_id, m.from_json, m.to_json, m.cc_json, m.bcc_json, m.has_attachments, ' +
  'ARRAY(SELECT t.name FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.seq = m.seq) AS tags';

const MESSAGE_COLUMNS = [
  'id', 'mailbox', 'route_rule', 'received_at', 'size', 'subject', 'snippet', 'message_id', 'date_header',
  'from_json', 'to_json', 'cc_json', 'bcc_json', 'reply_to_json',
  'from_search', 'to_search', 'cc_search', 'bcc_search', 'reply_to_search', 'sender_search',
  'has_attachments', 'has_inline', 'envelope_json', 'parse_error_json', 'fts_words', 'fts_doc', 'fts_oversize',
  'read', 'flagged', 'deleted',
] as const;
const BODY_COLUMNS = ['seq', 'text', 'text_json', 'text_parts', 'html', 'html_json', 'html_parts', 'headers_json', 'attachments_json', 'attachment_names', 'text_cut'] as const;

function messageValues(message: NewMessage, summary: MessageSummary): unknown[] {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  const replyTo = (parsed?.replyTo ?? []).map(nulFreeAddress);
  const search = searchColumns(message, summary);
  return [
    message.id, message.mailbox, message.routeRule ?? DEFAULT_ROUTE_RULE, message.receivedAt, summary.size, summary.subject, summary.snippet,
    summary.messageId, parsed?.date ?? null,
    summary.from ? JSON.stringify(summary.from) : null, JSON.stringify(summary.to), JSON.stringify(summary.cc), JSON.stringify(summary.bcc), JSON.stringify(replyTo),
    addressSearchText(summary.from ? [summary.from] : []), addressSearchText(summary.to), addressSearchText(summary.cc), addressSearchText(summary.bcc),
    addressSearchText(replyTo), search.senderSearch,
    summary.hasAttachments, parsed?.attachments.some((a) => a.inline) ?? false,
    JSON.stringify(message.envelope), message.parsed.ok ? null : JSON.stringify(wellFormed(message.parsed.error)),
    search.words, search.doc, search.oversize,
    summary.read, message.initialFlags?.flagged ?? false, message.initialFlags?.deleted ?? false,
  ];
}

function bodyValues(seq: number, message: NewMessage): unknown[] {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  const text = storedBody(parsed?.text ?? null);
  const html = storedBody(parsed?.html ?? null);
  return [
    seq, text.plain, text.json, text.likeParts, html.plain, html.json, html.likeParts,
    JSON.stringify(parsed?.headers ?? []), JSON.stringify(parsed?.attachments ?? []), attachmentNames(message), parsed?.textCut === true,
  ];
}

/** `VALUES (...), (...)` for rows of `width` values from placeholder $`first` on; fts_words goes through array_to_tsvector. */
function valuesList(rows: number, width: number, cast: (column: number, placeholder: string) => string = (_, p) => p): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(`(${Array.from({ length: width }, (_, c) => cast(c, `$${r * width + c + 1}`)).join(', ')})`);
  }
  return out.join(', ');
}

const WORDS_COLUMN = MESSAGE_COLUMNS.indexOf('fts_words');

function toSummary(row: SummaryRow): MessageSummary {
  return summaryOf(row, { hasAttachments: row.has_attachments, read: row.read, tags: [...row.tags] });
}

function toDetail(row: DetailRow): MessageDetail {
  return detailOf(toSummary(row), row, {
    text: readBody(row.text, row.text_json),
    html: readBody(row.html, row.html_json),
    headers: row.headers_json ? (JSON.parse(row.headers_json) as Header[]) : [],
    textCut: row.text_cut === true,
    parseError: row.parse_error_json === null ? null : (JSON.parse(row.parse_error_json) as string),
  });
}

/** Tags are unique without regard to case: the first spelling of each wins. */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function parseCursor(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) throw new KotakError('invalid_request', `cursor "${cursor}" is not one this server issued`);
  return Number(cursor);
}

/** The scope as a condition on a table aliased m with a `mailbox` column. */
function scopeSql(scope: MailboxScope, params: SqlParams): string {
  if (scope.kind === 'all') return 'true';
  if (scope.mailboxes.length === 0) return 'false';
  // One mailbox (the usual scope) as an equality, so the newest page walks messages_mailbox_seq in order.
  if (scope.mailboxes.length === 1) return `m.mailbox = ${params.add(scope.mailboxes[0])}`;
  return `m.mailbox = ANY(${params.add(scope.mailboxes)}::text[])`;
}

interface Where {
  readonly sql: string;
  readonly values: readonly unknown[];
}

function searchWhere(scope: MailboxScope, query: SearchQuery): Where {
  const params = new SqlParams();
  const inScope = scopeSql(scope, params);
  const terms = compilePgSearch(query, params);
  return { sql: `${inScope} AND (${terms})`, values: params.values };
}

const PRUNE_UNUSED_TAGS = 'DELETE FROM tags WHERE NOT EXISTS (SELECT 1 FROM message_tags mt WHERE mt.tag_id = tags.id)';

// IMAP folders (migration 003).

interface FolderRow extends FolderColumns {
  read: boolean;
  flagged: boolean;
  deleted: boolean;
  tags: string[];
}

const FOLDER_COLUMNS =
  'm.seq, m.id, m.mailbox, m.size, m.received_at, m.read, m.flagged, m.deleted, ' +
  'ARRAY(SELECT t.name FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.seq = m.seq) AS tags';

function toFolderEntry(row: FolderRow): FolderEntry {
  return folderEntryOf(row, { read: row.read, flagged: row.flagged, deleted: row.deleted, tags: [...row.tags] });
}

interface ExtrasRow {
  id: string;
  reply_to_json: string;
  envelope_json: string;
  attachments_json: string | null;
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<PostgresStore> {
  const { log, now = Date.now } = options;
  const pool = openPool(url, { log, max: options.poolSize });
  try {
    await migratePostgres(pool, log);
  } catch (err) {
    await pool.end().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new KotakError('database_unusable', `PostgreSQL at ${redactUrl(url)} could not be prepared: ${reason}`, { cause: err });
  }
  log.info({ db: redactUrl(url) }, 'PostgreSQL store open');

  const pending: PendingInsert[] = [];
  let flushing: Promise<void> | null = null;
  let closed = false;

  const query = async <R extends pg.QueryResultRow>(sql: string, values: readonly unknown[] = []): Promise<R[]> => (await pool.query<R>(sql, values as unknown[])).rows;
  const one = async <R extends pg.QueryResultRow>(sql: string, values: readonly unknown[] = []): Promise<R | undefined> => (await query<R>(sql, values))[0];

  const transaction = <T>(work: (client: pg.PoolClient) => Promise<T>, lockKey?: string): Promise<T> => inPgTransaction(pool, work, lockKey);

  async function writeBatch(batch: readonly PendingInsert[]): Promise<void> {
    await transaction(async (client) => {
      const rows = batch.flatMap((item) => messageValues(item.message, item.summary));
      const inserted = await client.query<{ seq: number; id: string }>(
        `INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')}) VALUES ${valuesList(batch.length, MESSAGE_COLUMNS.length, (c, p) => (c === WORDS_COLUMN ? `array_to_tsvector(${p}::text[])` : p))} RETURNING seq, id`,
        rows,
      );
      const seqOf = new Map(inserted.rows.map((r) => [r.id, r.seq]));
      const seqs = batch.map((item) => seqOf.get(item.message.id)!);
      await client.query(
        `INSERT INTO message_bodies (${BODY_COLUMNS.join(', ')}) VALUES ${valuesList(batch.length, BODY_COLUMNS.length)}`,
        batch.flatMap((item, i) => bodyValues(seqs[i]!, item.message)),
      );
      const inMemory: unknown[] = [];
      batch.forEach((item, i) => {
        if (item.message.spooled) return;
        const raw = item.message.raw;
        for (let part = 0; part === 0 || part * RAW_PART_BYTES < raw.length; part++) {
          inMemory.push(seqs[i], part, raw.subarray(part * RAW_PART_BYTES, (part + 1) * RAW_PART_BYTES));
        }
      });
      if (inMemory.length > 0) await client.query(`INSERT INTO message_raw (seq, part, bytes) VALUES ${valuesList(inMemory.length / 3, 3)}`, inMemory);
      for (const [i, item] of batch.entries()) {
        if (item.message.spooled) await copySpooled(client, seqs[i]!, item.message.spooled);
        if (item.message.tags?.length) item.summary = { ...item.summary, tags: await tagNewMessage(client, seqs[i]!, item.message.tags) };
      }
      // The webhook outbox (migration 004), after the tags: its payload is the summary insert
      // resolves to. One INSERT for the batch, under the insert lock, so outbox seqs follow commit order.
      const drafts = batch.flatMap((item) => storedMessageDrafts(item.message.webhookEndpoints, item.summary));
      if (drafts.length > 0) await insertWebhookRows(client, drafts, now(), false);
    }, INSERT_LOCK_KEY);
  }

  /** A new row's tags, in its insert's transaction; returns them as stored (an existing tag keeps its first spelling). */
  async function tagNewMessage(client: pg.PoolClient, seq: number, names: readonly string[]): Promise<string[]> {
    const tagIds = [];
    for (const name of names) tagIds.push(await tagIdOf(client, name));
    await client.query('INSERT INTO message_tags (seq, tag_id) SELECT $1, t FROM unnest($2::bigint[]) t ON CONFLICT DO NOTHING', [seq, tagIds]);
    const rows = await client.query<{ name: string }>('SELECT name FROM tags WHERE id = ANY($1::bigint[])', [tagIds]);
    return rows.rows.map((r) => r.name).sort(byTagName);
  }

  /** A spooled message's bytes into its rows, a part at a time from its file (the caller removes the file). */
  async function copySpooled(client: pg.PoolClient, seq: number, spooled: SpooledRaw): Promise<void> {
    let file;
    try {
      file = await open(spooled.path, 'r');
    } catch (err) {
      throw new KotakError('storage_failed', `could not read the received message from its spool file: ${(err as Error).message}`, { cause: err });
    }
    try {
      const buffer = Buffer.allocUnsafe(Math.min(RAW_PART_BYTES, Math.max(spooled.size, 1)));
      let copied = 0;
      for (let part = 0; ; part++) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, copied);
        if (bytesRead === 0 && part > 0) break;
        // The driver copies the value into its message before the query resolves: the buffer is free again after.
        await client.query('INSERT INTO message_raw (seq, part, bytes) VALUES ($1, $2, $3)', [seq, part, buffer.subarray(0, bytesRead)]);
        copied += bytesRead;
        if (bytesRead === 0) break;
      }
      if (copied !== spooled.size) throw new KotakError('storage_failed', `the spool file held ${copied} bytes where ${spooled.size} were received`);
    } finally {
      await file.close();
    }
  }

  function takeBatch(): PendingInsert[] {
    let bytes = 0;
    let count = 0;
    while (count < pending.length && count < MAX_BATCH_MESSAGES && (count === 0 || bytes + pending[count]!.bytes <= MAX_BATCH_BYTES)) {
      bytes += pending[count]!.bytes;
      count += 1;
    }
    return pending.splice(0, count);
  }

  async function flushAll(): Promise<void> {
    while (pending.length > 0) {
      await writeBatchOrEach(takeBatch(), writeBatch, (item, err) => item.reject(err), log);
    }
  }

  function scheduleFlush(): void {
    if (flushing) return;
    flushing = flushAll().finally(() => {
      flushing = null;
      if (pending.length > 0) scheduleFlush();
    });
  }

  async function countMatching(scope: MailboxScope, search: SearchQuery, where: Where, upTo?: number): Promise<{ n: number; unread: number }> {
    if (search.terms.length === 0) {
      const params = new SqlParams();
      const inScope = scopeSql(scope, params);
      const kept = await one<{ n: number; unread: number }>(
        `SELECT COALESCE(SUM(m.total), 0)::bigint AS n, COALESCE(SUM(m.unread), 0)::bigint AS unread FROM mailbox_counts m WHERE ${inScope}`,
        params.values,
      );
      return kept ?? { n: 0, unread: 0 };
    }
    const limit = `$${where.values.length + 1}`;
    const counted = await one<{ n: number; unread: number }>(
      `SELECT COUNT(*)::bigint AS n, (COUNT(*) FILTER (WHERE NOT s.read))::bigint AS unread FROM (SELECT m.read FROM messages m WHERE ${where.sql} LIMIT ${limit}) s`,
      [...where.values, upTo ?? null],
    );
    return counted ?? { n: 0, unread: 0 };
  }

  async function summariesBySeq(seqs: readonly number[]): Promise<SummaryRow[]> {
    if (seqs.length === 0) return [];
    return query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE m.seq = ANY($1::bigint[]) ORDER BY m.seq DESC`, [seqs]);
  }

  async function rowsWhere(where: Where): Promise<{ seq: number; id: string; mailbox: string }[]> {
    return query(`SELECT m.seq, m.id, m.mailbox FROM messages m WHERE ${where.sql} ORDER BY m.seq`, where.values);
  }

  async function deleteSeqs(rows: readonly { seq: number; id: string; mailbox: string }[]): Promise<RemovedMessage[]> {
    for (const slice of slices(rows, DELETE_SLICE)) {
      await query('DELETE FROM messages WHERE seq = ANY($1::bigint[])', [slice.map((r) => r.seq)]);
    }
    return rows.map((r) => ({ id: r.id, mailbox: r.mailbox }));
  }

  /** The seq of each of these ids that is a message, in sqlite.ts's order (by id within slices of ID_SLICE). */
  async function existingSeqs(client: pg.PoolClient, ids: readonly string[]): Promise<{ seq: number; id: string }[]> {
    const found: { seq: number; id: string }[] = [];
    for (const chunk of slices([...new Set(ids)], ID_SLICE)) {
      const rows = await client.query<{ seq: number; id: string }>('SELECT seq, id FROM messages WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C"', [chunk]);
      found.push(...rows.rows);
    }
    return found;
  }

  async function tagIdOf(client: pg.PoolClient, name: string): Promise<number> {
    await client.query('INSERT INTO tags (name) VALUES ($1) ON CONFLICT (kotak_fold(name)) DO NOTHING', [name]);
    return (await client.query<{ id: number }>('SELECT id FROM tags WHERE kotak_fold(name) = kotak_fold($1)', [name])).rows[0]!.id;
  }

  async function tagNamed(client: pg.PoolClient, name: string): Promise<number | null> {
    return (await client.query<{ id: number }>('SELECT id FROM tags WHERE kotak_fold(name) = kotak_fold($1)', [name])).rows[0]?.id ?? null;
  }

  function renameTagWithin(scope: MailboxScope, from: string, to: string): Promise<number> {
    return transaction(async (client) => {
      await client.query(PRUNE_UNUSED_TAGS);
      const source = await tagNamed(client, from);
      if (source === null) return 0;
      const params = new SqlParams([source]);
      const inScope = scopeSql(scope, params);
      const seqs = (
        await client.query<{ seq: number }>(`SELECT mt.seq FROM message_tags mt JOIN messages m ON m.seq = mt.seq WHERE mt.tag_id = $1 AND ${inScope} ORDER BY mt.seq`, params.values)
      ).rows.map((r) => r.seq);
      if (seqs.length === 0) return 0;
      const target = await tagIdOf(client, to);
      if (target === source) {
        // Only the case changes. Tags are one spelling for all: changed only if no other mailbox's message holds it.
        const total = (await client.query<{ n: number }>('SELECT COUNT(*)::bigint AS n FROM message_tags WHERE tag_id = $1', [source])).rows[0]!.n;
        if (total === seqs.length) await client.query('UPDATE tags SET name = $1 WHERE id = $2', [to, source]);
        return seqs.length;
      }
      await client.query(
        'INSERT INTO message_tags (seq, tag_id) SELECT seq, $1 FROM message_tags WHERE tag_id = $2 AND seq = ANY($3::bigint[]) ON CONFLICT DO NOTHING',
        [target, source, seqs],
      );
      await client.query('DELETE FROM message_tags WHERE tag_id = $1 AND seq = ANY($2::bigint[])', [source, seqs]);
      await client.query(PRUNE_UNUSED_TAGS);
      return seqs.length;
    }, TAG_LOCK_KEY);
  }

  return {
    async insert(message) {
      if (closed) throw new KotakError('shutting_down', 'the store is closed');
      const summary = summarize(message);
      return new Promise<MessageSummary>((resolve, reject) => {
        pending.push({ message, bytes: summary.size, summary, resolve, reject });
        scheduleFlush();
      });
    },

    async list(scope, { query: search, limit, cursor, after, start = 0, boundedTotal = false }: ListOptions): Promise<MessagePage> {
      const where = searchWhere(scope, search);
      const newerThan = after ? parseCursor(after) : null;
      if (newerThan !== null && start > 0) throw new KotakError('invalid_request', 'start cannot be combined with after');
      const olderThan = newerThan === null && cursor ? parseCursor(cursor) : null;
      const next = (i: number) => `$${where.values.length + i}`;
      const bound = newerThan !== null ? `AND m.seq > ${next(1)}` : olderThan !== null ? `AND m.seq < ${next(1)}` : '';
      const boundValues = newerThan !== null ? [newerThan] : olderThan !== null ? [olderThan] : [];
      const direction = newerThan !== null ? 'ASC' : 'DESC';
      const countUpTo = boundedTotal && search.terms.length > 0 ? start + limit + SEARCH_TOTAL_BOUND : undefined;
      let total: number;
      let rows: SummaryRow[];
      if (countUpTo !== undefined && newerThan === null && olderThan === null) {
        // One read of the matches' seqs, newest first, up to the bound: the count and the page.
        const seqs = (await query<{ seq: number }>(`SELECT m.seq FROM messages m WHERE ${where.sql} ORDER BY m.seq DESC LIMIT ${next(1)}`, [...where.values, countUpTo])).map(
          (r) => r.seq,
        );
        total = seqs.length;
        rows = await summariesBySeq(seqs.slice(start, start + limit + 1));
      } else {
        const at = boundValues.length;
        [total, rows] = await Promise.all([
          countMatching(scope, search, where, countUpTo).then((count) => count.n),
          query<SummaryRow>(
            `SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE ${where.sql} ${bound} ORDER BY m.seq ${direction} LIMIT ${next(at + 1)} OFFSET ${next(at + 2)}`,
            [...where.values, ...boundValues, limit + 1, start],
          ),
        ]);
      }
      const exists = async (comparison: '<' | '>', seq: number) =>
        (await one(`SELECT 1 AS x FROM messages m WHERE ${where.sql} AND m.seq ${comparison} ${next(1)} LIMIT 1`, [...where.values, seq])) !== undefined;
      const { page, nextCursor, prevCursor } = await cursorPage(rows, { limit, newer: newerThan !== null, older: olderThan !== null, start, exists });
      return { total, totalIsLowerBound: total === countUpTo, messages: page.map(toSummary), nextCursor, prevCursor };
    },

    async find(scope, { query: search, since, ids, limit }: FindOptions) {
      if (ids && ids.length === 0) return [];
      const where = searchWhere(scope, search);
      const params = new SqlParams(where.values);
      const conditions = [where.sql];
      if (since !== null && since !== undefined) conditions.push(`m.received_at >= ${params.add(Math.ceil(since))}::bigint`);
      if (ids) conditions.push(`m.id = ANY(${params.add(ids)}::text[])`);
      const rows = await query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE ${conditions.join(' AND ')} ORDER BY m.seq LIMIT ${params.add(limit)}`, params.values);
      return rows.map(toSummary);
    },

    async get(scope, id) {
      const params = new SqlParams([id]);
      const inScope = scopeSql(scope, params);
      const row = await one<DetailRow>(
        `SELECT ${SUMMARY_COLUMNS}, m.route_rule, m.reply_to_json, m.envelope_json, m.parse_error_json, m.date_header,
                b.text, b.text_json, b.html, b.html_json, b.headers_json, b.attachments_json, b.text_cut
           FROM messages m LEFT JOIN message_bodies b ON b.seq = m.seq WHERE m.id = $1 AND ${inScope}`,
        params.values,
      );
      return row ? toDetail(row) : null;
    },

    async getRaw(scope, id) {
      const params = new SqlParams([id]);
      const inScope = scopeSql(scope, params);
      // The first part with the size: most messages are one part.
      const first = await one<{ seq: number; size: number; bytes: Buffer }>(
        `SELECT m.seq, m.size, r.bytes FROM messages m JOIN message_raw r ON r.seq = m.seq AND r.part = 0 WHERE m.id = $1 AND ${inScope}`,
        params.values,
      );
      if (!first) return null;
      if (first.bytes.length === first.size) return first.bytes;
      // The rest a part at a time, into one buffer of the message's size.
      const raw = Buffer.allocUnsafe(first.size);
      let at = first.bytes.copy(raw, 0);
      for (let part = 1; at < first.size; part++) {
        const next = await one<{ bytes: Buffer }>('SELECT bytes FROM message_raw WHERE seq = $1 AND part = $2', [first.seq, part]);
        // Deleted meanwhile: as if it had not been found.
        if (!next) return null;
        at += next.bytes.copy(raw, at);
      }
      return raw;
    },

    async setRead(scope, id, read) {
      const params = new SqlParams([read, id]);
      const inScope = scopeSql(scope, params);
      const updated = await pool.query(`UPDATE messages AS m SET read = $1 WHERE m.id = $2 AND ${inScope}`, params.values);
      if (updated.rowCount === 0) return null;
      const row = await one<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE m.id = $1`, [id]);
      return row ? toSummary(row) : null;
    },

    async setReadMatching(scope, search, read) {
      const where = searchWhere(scope, search);
      const flag = `$${where.values.length + 1}`;
      const changed = await query<{ mailbox: string }>(
        `UPDATE messages SET read = ${flag} WHERE read <> ${flag} AND seq IN (SELECT m.seq FROM messages m WHERE ${where.sql}) RETURNING mailbox`,
        [...where.values, read],
      );
      const byMailbox = new Map<string, number>();
      for (const { mailbox } of changed) byMailbox.set(mailbox, (byMailbox.get(mailbox) ?? 0) + 1);
      return byMailbox;
    },

    async delete(scope, id) {
      const params = new SqlParams([id]);
      const inScope = scopeSql(scope, params);
      const deleted = await pool.query(`DELETE FROM messages m WHERE m.id = $1 AND ${inScope}`, params.values);
      return (deleted.rowCount ?? 0) > 0;
    },

    async deleteMatching(scope, search) {
      return deleteSeqs(await rowsWhere(searchWhere(scope, search)));
    },

    async clear(scope) {
      if (scope.kind === 'only') {
        const params = new SqlParams();
        return (await deleteSeqs(await rowsWhere({ sql: scopeSql(scope, params), values: params.values }))).length;
      }
      return (await pool.query('DELETE FROM messages')).rowCount ?? 0;
    },

    async prune(scope, { maxMessages, receivedBefore }: PruneLimits) {
      const params = new SqlParams();
      const inScope = scopeSql(scope, params);
      const conditions: string[] = [];
      if (receivedBefore !== null && receivedBefore !== undefined) conditions.push(`m.received_at < ${params.add(Math.ceil(receivedBefore))}::bigint`);
      if (maxMessages !== null && maxMessages !== undefined) {
        const boundaryParams = new SqlParams();
        const boundaryScope = scopeSql(scope, boundaryParams);
        const boundary = await one<{ seq: number }>(
          `SELECT m.seq FROM messages m WHERE ${boundaryScope} ORDER BY m.seq DESC LIMIT 1 OFFSET ${boundaryParams.add(maxMessages)}`,
          boundaryParams.values,
        );
        if (boundary) conditions.push(`m.seq <= ${params.add(boundary.seq)}`);
      }
      if (conditions.length === 0) return [];
      return deleteSeqs(await rowsWhere({ sql: `${inScope} AND (${conditions.join(' OR ')})`, values: params.values }));
    },

    async stats(scope): Promise<StoreStats> {
      const params = new SqlParams();
      const inScope = scopeSql(scope, params);
      const row = await one<StoreStats>(
        `SELECT COALESCE(SUM(m.total), 0)::bigint AS total, COALESCE(SUM(m.unread), 0)::bigint AS unread, COALESCE(SUM(m.size), 0)::bigint AS size FROM mailbox_counts m WHERE ${inScope}`,
        params.values,
      );
      return row ?? { total: 0, unread: 0, size: 0 };
    },

    async mailboxCounts(scope): Promise<MailboxCount[]> {
      const params = new SqlParams();
      const inScope = scopeSql(scope, params);
      return query<MailboxCount>(`SELECT m.mailbox AS name, m.total, m.unread, m.size FROM mailbox_counts m WHERE ${inScope} ORDER BY m.mailbox`, params.values);
    },

    async ping() {
      await pool.query('SELECT 1');
    },

    async close() {
      closed = true;
      while (flushing) await flushing;
      await pool.end();
    },

    async listAt(scope, { query: search, start, limit }: OffsetListOptions): Promise<OffsetPage> {
      const where = searchWhere(scope, search);
      const n = where.values.length;
      const [count, rows] = await Promise.all([
        countMatching(scope, search, where),
        query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE ${where.sql} ORDER BY m.seq DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...where.values, limit, start]),
      ]);
      return { total: count.n, unread: count.unread, messages: rows.map(toSummary) };
    },

    async folderIndex(scope, mailbox, { afterSeq = 0, limit }) {
      if (!mailboxInScope(scope, mailbox) || limit <= 0) return [];
      // Newest first down messages_mailbox_seq, then turned oldest first.
      const rows = await query<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM messages m WHERE m.mailbox = $1 AND m.seq > $2 ORDER BY m.seq DESC LIMIT $3`, [mailbox, afterSeq, limit]);
      return rows.reverse().map(toFolderEntry);
    },

    async flagsOf(scope, ids) {
      const entries = new Map<string, FolderEntry>();
      for (const chunk of slices([...new Set(ids)], FOLDER_ID_SLICE)) {
        const params = new SqlParams([chunk]);
        const inScope = scopeSql(scope, params);
        for (const row of await query<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM messages m WHERE m.id = ANY($1::text[]) AND ${inScope}`, params.values)) {
          entries.set(row.id, toFolderEntry(row));
        }
      }
      return entries;
    },

    setFlags(scope, ids, { read, flagged, deleted }) {
      return transaction(async (client) => {
        const changed: FlagsChanged[] = [];
        for (const chunk of slices([...new Set(ids)], FOLDER_ID_SLICE)) {
          const params = new SqlParams([chunk]);
          const inScope = scopeSql(scope, params);
          // Locked, so that what is reported changed is what this transaction changed.
          const rows = (
            await client.query<{ seq: number; id: string; mailbox: string; read: boolean; flagged: boolean; deleted: boolean }>(
              `SELECT m.seq, m.id, m.mailbox, m.read, m.flagged, m.deleted FROM messages m WHERE m.id = ANY($1::text[]) AND ${inScope} ORDER BY m.seq FOR UPDATE`,
              params.values,
            )
          ).rows;
          const seqs: number[] = [];
          for (const row of rows) {
            const readChanged = read !== undefined && row.read !== read;
            const marks = (flagged !== undefined && row.flagged !== flagged) || (deleted !== undefined && row.deleted !== deleted);
            if (!readChanged && !marks) continue;
            seqs.push(row.seq);
            changed.push({ id: row.id, mailbox: row.mailbox, read: readChanged ? read! : null, marks });
          }
          if (seqs.length === 0) continue;
          await client.query(
            'UPDATE messages SET read = COALESCE($1, read), flagged = COALESCE($2, flagged), deleted = COALESCE($3, deleted) WHERE seq = ANY($4::bigint[])',
            [read ?? null, flagged ?? null, deleted ?? null, seqs],
          );
        }
        return changed;
      });
    },

    async uidValidity() {
      const row = await one<{ uid_validity: number }>('SELECT uid_validity FROM store_identity');
      if (!row) throw new KotakError('storage_failed', 'this database has no UIDVALIDITY (migration 003 was not applied)');
      return row.uid_validity;
    },

    async highestSeq() {
      // The identity's sequence: what it last handed out, committed or not (it never goes back).
      const row = await one<{ n: number | null }>("SELECT pg_sequence_last_value(pg_get_serial_sequence('messages', 'seq')::regclass) AS n");
      return row?.n ?? 0;
    },

    async summaryExtras(ids) {
      const extras = new Map<string, SummaryExtras>();
      for (const chunk of slices([...new Set(ids)], ID_SLICE)) {
        const [rows, tagRows] = await Promise.all([
          query<ExtrasRow>(
            `SELECT m.id, m.reply_to_json, m.envelope_json, CASE WHEN m.has_attachments OR m.has_inline THEN b.attachments_json END AS attachments_json
               FROM messages m LEFT JOIN message_bodies b ON b.seq = m.seq WHERE m.id = ANY($1::text[])`,
            [chunk],
          ),
          query<{ id: string; name: string }>('SELECT m.id, t.name FROM messages m JOIN message_tags mt ON mt.seq = m.seq JOIN tags t ON t.id = mt.tag_id WHERE m.id = ANY($1::text[])', [
            chunk,
          ]),
        ]);
        const tags = new Map<string, string[]>();
        for (const { id, name } of tagRows) (tags.get(id) ?? tags.set(id, []).get(id)!).push(name);
        for (const row of rows) {
          const attachments = row.attachments_json ? (JSON.parse(row.attachments_json) as AttachmentInfo[]) : [];
          const inline = attachments.filter((a) => a.inline).length;
          extras.set(row.id, {
            tags: (tags.get(row.id) ?? []).sort(byTagName),
            replyTo: JSON.parse(row.reply_to_json) as Address[],
            attachments: attachments.length - inline,
            inline,
            user: (JSON.parse(row.envelope_json) as Envelope).user ?? null,
          });
        }
      }
      return extras;
    },

    setTags(ids, tags) {
      const names = uniqueNames(tags);
      return transaction(async (client) => {
        await client.query(PRUNE_UNUSED_TAGS);
        const found = await existingSeqs(client, ids);
        if (found.length === 0) return [];
        const tagIds: number[] = [];
        for (const name of names) tagIds.push(await tagIdOf(client, name));
        const seqs = found.map((r) => r.seq);
        await client.query('DELETE FROM message_tags WHERE seq = ANY($1::bigint[])', [seqs]);
        if (tagIds.length > 0) {
          await client.query('INSERT INTO message_tags (seq, tag_id) SELECT s, t FROM unnest($1::bigint[]) s CROSS JOIN unnest($2::bigint[]) t', [seqs, tagIds]);
        }
        await client.query(PRUNE_UNUSED_TAGS);
        return found.map((r) => r.id);
      }, TAG_LOCK_KEY);
    },

    changeTags(ids, add, remove) {
      const removing = uniqueNames(remove);
      const removed = new Set(removing.map((name) => name.toLowerCase()));
      const adding = uniqueNames(add).filter((name) => !removed.has(name.toLowerCase()));
      return transaction(async (client) => {
        await client.query(PRUNE_UNUSED_TAGS);
        const found = await existingSeqs(client, ids);
        if (found.length === 0 || (adding.length === 0 && removing.length === 0)) return [];
        const seqs = found.map((r) => r.seq);
        const changed = new Set<number>();
        for (const name of removing) {
          const tag = await tagNamed(client, name);
          if (tag === null) continue;
          const gone = await client.query<{ seq: number }>('DELETE FROM message_tags WHERE tag_id = $1 AND seq = ANY($2::bigint[]) RETURNING seq', [tag, seqs]);
          for (const row of gone.rows) changed.add(row.seq);
        }
        for (const name of adding) {
          const tag = await tagIdOf(client, name);
          const added = await client.query<{ seq: number }>(
            'INSERT INTO message_tags (seq, tag_id) SELECT s, $1 FROM unnest($2::bigint[]) s ON CONFLICT DO NOTHING RETURNING seq',
            [tag, seqs],
          );
          for (const row of added.rows) changed.add(row.seq);
        }
        await client.query(PRUNE_UNUSED_TAGS);
        return found.filter((r) => changed.has(r.seq)).map((r) => r.id);
      }, TAG_LOCK_KEY);
    },

    async tagCounts(scope): Promise<TagCount[]> {
      const params = new SqlParams();
      const inScope = scopeSql(scope, params);
      return query<TagCount>(
        `SELECT t.name AS name, COUNT(*)::bigint AS count FROM tags t JOIN message_tags mt ON mt.tag_id = t.id JOIN messages m ON m.seq = mt.seq
          WHERE ${inScope} GROUP BY t.id, t.name ORDER BY kotak_fold(t.name) COLLATE "C"`,
        params.values,
      );
    },

    renameTag(scope, from, to) {
      if (scope.kind === 'only') return renameTagWithin(scope, from, to);
      return transaction(async (client) => {
        // A name left over from deleted messages must not block the rename or lend its spelling.
        await client.query(PRUNE_UNUSED_TAGS);
        const source = await tagNamed(client, from);
        if (source === null) return 0;
        const held = (await client.query<{ n: number }>('SELECT COUNT(*)::bigint AS n FROM message_tags WHERE tag_id = $1', [source])).rows[0]!.n;
        const target = await tagNamed(client, to);
        if (target === null || target === source) {
          // Also how a tag changes only its case.
          await client.query('UPDATE tags SET name = $1 WHERE id = $2', [to, source]);
        } else {
          await client.query('INSERT INTO message_tags (seq, tag_id) SELECT seq, $1 FROM message_tags WHERE tag_id = $2 ON CONFLICT DO NOTHING', [target, source]);
          await client.query('DELETE FROM message_tags WHERE tag_id = $1', [source]);
          await client.query('DELETE FROM tags WHERE id = $1', [source]);
        }
        return held;
      }, TAG_LOCK_KEY);
    },

    deleteTag(scope, name) {
      return transaction(async (client) => {
        const tag = await tagNamed(client, name);
        if (tag === null) return 0;
        const params = new SqlParams([tag]);
        const inScope = scopeSql(scope, params);
        const deleted = await client.query(`DELETE FROM message_tags WHERE tag_id = $1 AND seq IN (SELECT m.seq FROM messages m WHERE ${inScope})`, params.values);
        await client.query(PRUNE_UNUSED_TAGS);
        return deleted.rowCount ?? 0;
      }, TAG_LOCK_KEY);
    },
  };
}
