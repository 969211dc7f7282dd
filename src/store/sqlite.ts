/**
 * MessageStore on SQLite (WAL; synchronous=FULL with `syncCommits`, NORMAL without). Inserts are
 * group-committed: every insert that arrives while a commit is in flight joins the next
 * transaction, so one commit (and with FULL, one fsync) covers many messages. All writes go through one queue, in order.
 */
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { inScope as mailboxInScope, type MailboxScope } from '../mail/mailbox-scope.js';
import type { SearchQuery } from '../mail/search-query.js';
import { addressSearchText, nulFreeAddress, summarize } from '../mail/summary.js';
import { DEFAULT_ROUTE_RULE, type Address, type AttachmentInfo, type Envelope, type Header, type MessageDetail, type MessageSummary, type NewMessage } from '../mail/types.js';
import { KotakError } from '../errors.js';
import { openDiskSpace, UNLIMITED_DISK_SPACE, type DiskSpace } from './disk-space.js';
import { inspectDatabaseFile, inUse, isBusy, unusable } from './database-file.js';
import { listMigrations, migrate } from './migrate.js';
import { createFtsIndexer, indexedBody, MAX_INDEXED_BODY_CHARS, withoutNuls } from './fts-indexer.js';
import {
  compileSearch,
  drivingPrefixWords,
  drivingTrigramTerms,
  earliestBefore,
  looksInHtml,
  mayContainTerms,
  readsFullText,
  receivedAtIndexed,
  trigramPhrase,
  substringValues,
  type CompiledSearch,
  type NarrowedSeqs,
  type PackedMatches,
  type PrefixTerms,
  type SqlCondition,
  type TrigramParts,
  type TrigramTerm,
} from './search-sql.js';
import { selectivePart } from './trigram-narrowing.js';
import { scanMayContain } from './narrowing-scan.js';
import { CREATE_FULL_TEXT_TERMS, expandable, termsWithPrefix } from './prefix-terms.js';
import { createCheckpointer, WAL_RESTART_PAGES } from './checkpointer.js';
import { packRaw, unpackRaw, unpackText, type StoredRaw, type StoredText } from './blob-codec.js';
import { writeBatchOrEach } from './batch-write.js';
import { cursorPage } from './cursor-page.js';
import { byTagName, detailOf, folderEntryOf, summaryOf, type DetailColumns, type FolderColumns, type SummaryColumns } from './message-rows.js';
import { packBodies, packedBodiesContaining, type PackedBodies } from './packed-bodies.js';
import { inImmediateTransaction, openConnection, type Connection } from './sqlite-driver.js';
import { openRawFiles, type RawFiles } from './raw-files.js';
import { openSpool, type Spool } from './spool.js';
import { createRelayStore } from './relay-sqlite.js';
import type { RelayStore } from './relay-types.js';
import { storedMessageDrafts } from './webhook-rows.js';
import { createSqliteWebhookStore, insertWebhookRows } from './webhook-sqlite.js';
import type { WebhookStore } from './webhook-types.js';
import type { FindOptions, FlagsChanged, FolderEntry, ListOptions, MailboxCount, MessagePage, MessageStore, PruneLimits, RemovedMessage, StoreStats } from './types.js';
import type { OffsetListOptions, OffsetPage, SummaryExtras, TagCount } from './types.js';

/**
 * A batch is also cut at this many raw bytes. Kept small: SQLite and the driver each copy a
 * batch's blobs while it commits. 4 MB rather than 8 MB lowered the peak RSS at 1 MB × 10
 * connections from 277–315 to 248–252 MB with the same throughput (bench/ingest.ts).
 */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Raw messages this large or larger are kept as files beside the database (store/raw-files.ts),
 * where each byte is written once instead of twice. Measured on a 2-vCPU machine (bench/ingest.ts,
 * 10 connections, SQLite → files in alternating runs): 1 MB 90–96 → 136–149 msg/s, 256 KB
 * 295–301 → 316–349, 128 KB 477–488 → 460–472, 50 KB ~15% slower as files (creating and syncing a
 * file costs more than a second write of that much). Files win from about here.
 */
export const DEFAULT_RAW_FILE_MIN_BYTES = 256 * 1024;
/** Raw files without a row are swept at startup once they are this old (see openSqliteStore). */
const STRAY_FILE_MIN_AGE_MS = 10 * 60 * 1000;
/** Bound in place of the raw bytes of a message kept in a file. */
const NO_BYTES: Buffer = Buffer.alloc(0);
/** SQLite's compiled-in limit of bound parameters per statement. */
const MAX_SQL_PARAMS = 32_766;
/** Deletions are announced and performed in slices of this size. */
const DELETE_SLICE = 5_000;

interface PendingInsert {
  /** The message; its raw bytes are left out (empty) when they are in `rawFile`. */
  readonly message: NewMessage;
  /** Replaced once written when the message has tags: by their stored spellings. */
  summary: MessageSummary;
  /** The file holding the raw bytes (already written and synced), or null when they go in the row. */
  readonly rawFile: string | null;
  /** The raw bytes (none when in `rawFile`), text, HTML and header list as stored (store/blob-codec.ts). */
  readonly stored: { readonly raw: StoredRaw; readonly bodies: PackedBodies };
  readonly resolve: (summary: MessageSummary) => void;
  readonly reject: (err: unknown) => void;
}

interface SummaryRow extends SummaryColumns {
  seq: number;
  read: number;
  has_attachments: number;
  tags_json: string;
}

interface DetailRow extends SummaryRow, DetailColumns {
  parse_error: string | null;
  text: StoredText;
  html: StoredText;
  headers_json: StoredText;
  text_cut: number | null;
}

// A message holds few tags; the subquery reads them from message_tags' primary key (seq first).
const SUMMARY_COLUMNS =
  'm.seq, m.id, m.mailbox, m.received_at, m.size, m.read, m.subject, m.snippet, m.message_id, m.from_json, m.to_json, m.cc_json, m.bcc_json, m.has_attachments, ' +
  '(SELECT json_group_array(t.name) FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.seq = m.seq) AS tags_json';

/** The columns of the message_ingest view (migrations 002, 005, 006, 008 and 011), in the order rowFor() fills them. */
const INGEST_COLUMNS = [
  'seq', 'id', 'mailbox', 'route_rule', 'received_at', 'size', 'read', 'subject', 'snippet', 'message_id', 'date_header',
  'from_json', 'to_json', 'cc_json', 'bcc_json', 'reply_to_json',
  'from_search', 'to_search', 'cc_search', 'bcc_search', 'reply_to_search',
  'has_attachments', 'has_inline', 'envelope_json', 'parse_error',
  'text', 'html', 'headers_json', 'attachments_json', 'body_chars', 'raw', 'raw_packed', 'raw_file',
  'fts_addresses', 'fts_html_text', 'fts_attachments', 'fts_bytes', 'fts_text',
] as const;
/** A batch is one INSERT statement, so it must fit SQLite's limit of bound parameters. */
const MAX_BATCH_MESSAGES = Math.floor(MAX_SQL_PARAMS / INGEST_COLUMNS.length);
const INGEST_ROW = `(${INGEST_COLUMNS.map(() => '?').join(', ')})`;
/** The INSERT for a batch of n messages, built once per n. */
const ingestSql = (() => {
  const built = new Map<number, string>();
  return (n: number): string => {
    let sql = built.get(n);
    if (sql === undefined) built.set(n, (sql = `INSERT INTO message_ingest (${INGEST_COLUMNS.join(', ')}) VALUES ${Array(n).fill(INGEST_ROW).join(', ')}`));
    return sql;
  };
})();

/** The message's raw bytes, text, HTML and header list as the row stores them (store/blob-codec.ts). */
function packed(message: NewMessage): PendingInsert['stored'] {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  return { raw: packRaw(message.raw), bodies: packBodies(parsed?.text ?? null, parsed?.html ?? null, JSON.stringify(parsed?.headers ?? [])) };
}

function toSummary(row: SummaryRow): MessageSummary {
  return summaryOf(row, { hasAttachments: row.has_attachments === 1, read: row.read === 1, tags: JSON.parse(row.tags_json) as string[] });
}

function toDetail(row: DetailRow): MessageDetail {
  return detailOf(toSummary(row), row, {
    text: unpackText(row.text),
    html: unpackText(row.html),
    headers: row.headers_json ? (JSON.parse(unpackText(row.headers_json)!) as Header[]) : [],
    textCut: row.text_cut === 1,
    parseError: row.parse_error,
  });
}

/** The values of one message for the message_ingest view, in INGEST_COLUMNS order. */
function rowFor(seq: number, { message, summary, rawFile, stored }: PendingInsert): unknown[] {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  const replyTo = (parsed?.replyTo ?? []).map(nulFreeAddress); // as summarize() does for From, To and Cc
  const from = summary.from ? [summary.from] : [];
  const envelopeAddresses = [message.envelope.mailFrom, ...message.envelope.rcptTo].join(' ');
  const text = withoutNuls(parsed?.text ?? '');
  const indexed = {
    addresses: `${addressSearchText([...from, ...summary.to, ...summary.cc, ...summary.bcc, ...replyTo])} ${envelopeAddresses}`,
    // Past the bound nothing is indexed, so a longer HTML text is not kept for it.
    htmlText: indexedBody(withoutNuls(parsed?.htmlText ?? '')),
    // The text waits here to be indexed: the stored one may be packed (migration 011). Cut at twice
    // the bound in UTF-16 units, which keeps at least the bound in characters for the index's own cut.
    text: text.length > 2 * MAX_INDEXED_BODY_CHARS ? text.slice(0, 2 * MAX_INDEXED_BODY_CHARS) : text,
    attachments: withoutNuls((parsed?.attachments ?? []).map((a) => a.filename ?? '').join(' ')),
  };
  const indexedChars = Math.min(MAX_INDEXED_BODY_CHARS, text.length + indexed.htmlText.length);
  return [
    seq, message.id, message.mailbox, message.routeRule ?? DEFAULT_ROUTE_RULE, message.receivedAt, summary.size, summary.read ? 1 : 0, summary.subject, summary.snippet,
    summary.messageId, parsed?.date ?? null,
    summary.from ? JSON.stringify(summary.from) : null, JSON.stringify(summary.to), JSON.stringify(summary.cc),
    JSON.stringify(summary.bcc), JSON.stringify(replyTo),
    addressSearchText(from), addressSearchText(summary.to), addressSearchText(summary.cc),
    addressSearchText(summary.bcc), addressSearchText(replyTo),
    summary.hasAttachments ? 1 : 0, parsed?.attachments.some((a) => a.inline) ? 1 : 0,
    JSON.stringify(message.envelope), message.parsed.ok ? null : message.parsed.error,
    stored.bodies.text, stored.bodies.html, stored.bodies.headersJson, JSON.stringify(parsed?.attachments ?? []), stored.bodies.bodyChars,
    stored.raw.bytes, stored.raw.packed ? 1 : 0, rawFile,
    indexed.addresses, indexed.htmlText, indexed.attachments,
    indexed.addresses.length + indexedChars + indexed.attachments.length, indexed.text,
  ];
}

/**
 * The scope as a condition on `messages m`. `m.mailbox IN (...)` lets SQLite walk the
 * messages_mailbox_seq index (mailbox, seq) in seq order; the whole store needs no condition.
 */
function scopeCondition(scope: MailboxScope): SqlCondition {
  if (scope.kind === 'all') return { sql: '1', params: [] };
  if (scope.mailboxes.length === 0) return { sql: '0', params: [] };
  return { sql: `m.mailbox IN (${scope.mailboxes.map(() => '?').join(',')})`, params: [...scope.mailboxes] };
}

/**
 * The scope as a filter of rows found another way (by id): the unary `+` keeps SQLite from
 * walking messages_mailbox_seq instead, which read a whole mailbox to find a few ids in it
 * (10,000 ids in slices of 500 of a 90,000-message mailbox: 3 s, against tens of ms by id).
 */
function scopeFilter(scope: MailboxScope): SqlCondition {
  const condition = scopeCondition(scope);
  return scope.kind === 'only' && scope.mailboxes.length > 0 ? { sql: `+${condition.sql}`, params: condition.params } : condition;
}

/** A search within a scope. */
function scopedSearch(
  scope: MailboxScope,
  query: SearchQuery,
  {
    drive,
    packedMatches,
    prefixTerms,
    trigramParts,
    narrowedSeqs,
  }: { drive: boolean; packedMatches: PackedMatches; prefixTerms?: PrefixTerms; trigramParts?: TrigramParts; narrowedSeqs?: NarrowedSeqs },
): CompiledSearch {
  const where = compileSearch(query, { drive, packedMatches, prefixTerms, trigramParts, narrowedSeqs });
  if (scope.kind === 'all') return where;
  const inScope = scopeCondition(scope);
  return { ...where, sql: `${inScope.sql} AND (${where.sql})`, params: [...inScope.params, ...where.params] };
}

/** Every message of every mailbox, no terms: what `NEWEST_BY_OFFSET` may read. */
function isEverything(where: CompiledSearch): boolean {
  return where.from === 'messages m' && where.sql === '1';
}

/**
 * The newest messages past an offset (`LIMIT ? OFFSET ?`): the skipped rows are walked in the
 * seq index (migration 013), a few bytes an entry, instead of the table's leaves, which hold whole
 * rows. A mailbox's list skips in messages_mailbox_seq already.
 */
const NEWEST_BY_OFFSET = `SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE m.seq IN (SELECT seq FROM messages INDEXED BY messages_seq ORDER BY seq DESC LIMIT ? OFFSET ?) ORDER BY m.seq DESC`;

/**
 * A search's total, when asked for bounded (`ListOptions.boundedTotal`), counts at most this many
 * matches past the end of the page: a common word matches most of a million messages, and
 * counting them all cost more than the page. Beyond it the total is a lower bound.
 */
export const SEARCH_TOTAL_BOUND = 1_000;

/**
 * A `before:` search not driven by a text index reads its matches from the received_at index
 * (then sorts them by seq) when fewer than this many messages were received before its time:
 * sorting that many costs a few milliseconds, where a walk from the newest reads every later row.
 */
const BEFORE_BY_INDEX_MAX = 20_000;

function parseCursor(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) throw new KotakError('invalid_request', `cursor "${cursor}" is not one this server issued`);
  return Number(cursor);
}

/** The SQLite store also holds the relay queue and the webhook outbox, on the same connections and write queue. */
export type SqliteStore = MessageStore & {
  readonly relay: RelayStore;
  readonly webhooks: WebhookStore;
  readonly space: DiskSpace;
  /** Messages committed and not yet in the full-text index (it is built behind the commit). */
  fullTextBacklog(): Promise<number>;
  /** Where large messages are received (a NewMessage's `spooled`); null for a store without files (`:memory:`). */
  readonly spool: Spool | null;
};

export interface SqliteStoreOptions {
  readonly log: Logger;
  /** Raw messages of this many bytes or more go to files beside the database (not for `:memory:`). */
  readonly rawFileMinBytes?: number;
  /** New mail is refused below this much free disk space (`--min-free-disk`); 0 or absent: no check, no reserve. */
  readonly minFreeBytes?: number;
  /**
   * fsync before a commit returns (the WAL at every COMMIT, each raw file and its directory
   * before the row naming it): survives power loss (`--durability full`). Without it a commit is
   * in the file system before it returns, which survives the process dying, not the OS. Default true.
   */
  readonly syncCommits?: boolean;
  /**
   * The directory of migrations to apply (`NNN_name.sql`). Default: src/store/migrations, all of
   * them. Tests give a copy of the older ones, to fill a database at an earlier schema.
   */
  readonly migrations?: URL;
  /** How long commits wait before the indexer's pass (fts-indexer.ts); tests lengthen it to hold a backlog. */
  readonly indexDelayMs?: number;
  /** The clock of the webhook outbox rows an insert writes (created and due then); default Date.now. */
  readonly now?: () => number;
}

/**
 * The writer connection, holding the process lock on the database file from its first read
 * (`exclusive`, see sqlite-driver.ts): a second process is refused at once rather than racing.
 */
async function openWriter(path: string, inMemory: boolean): Promise<Connection> {
  if (inMemory) return openConnection(path);
  let writer: Connection;
  try {
    writer = await openConnection(path, { exclusive: true, busyTimeoutMs: 0 });
  } catch (err) {
    throw unusable(path, (err as Error).message, err);
  }
  try {
    await writer.get('SELECT COUNT(*) AS n FROM sqlite_master');
  } catch (err) {
    await writer.close().catch(() => undefined);
    if (isBusy(err)) throw inUse(path, err);
    throw unusable(path, (err as Error).message, err);
  }
  writer.setBusyTimeout(10_000);
  return writer;
}

/** A message's raw file: linked to its spool file when it was received into one, else written. */
async function writeRawFile(rawFiles: RawFiles | null, message: NewMessage): Promise<void> {
  if (!rawFiles) throw new KotakError('storage_failed', 'a spooled message reached a store without files');
  try {
    if (message.spooled) await rawFiles.adopt(message.id, message.spooled.path);
    else await rawFiles.write(message.id, message.raw);
  } catch (err) {
    throw new KotakError('storage_failed', `could not write the raw message to a file: ${(err as Error).message}`, { cause: err });
  }
}

export async function openSqliteStore(path: string, options: SqliteStoreOptions): Promise<SqliteStore> {
  const { log, rawFileMinBytes = DEFAULT_RAW_FILE_MIN_BYTES, minFreeBytes = 0, syncCommits = true, migrations, now = Date.now } = options;
  const inMemory = path === ':memory:' || path === '';
  // Whose file it is and whether it can be used are settled before anything is written to it.
  const state = inMemory ? 'new' : await inspectDatabaseFile(path, (await listMigrations(migrations)).at(-1)?.version ?? 0);
  const writer = await openWriter(path, inMemory);
  try {
    // 4 KB pages (effective when the file is created; older databases keep theirs). A commit writes
    // every page it touches whole: a batch of small messages touches ~14 pages of 16 KB or ~19 of
    // 4 KB, so ~80 KB of WAL to sync instead of ~180 KB, and the disk syncs by the byte.
    // 16 KB pages paid off while 1 MB messages were blobs here; those are files now (raw-files.ts).
    await writer.exec('PRAGMA page_size = 4096;');
    if (!inMemory) await writer.get('PRAGMA journal_mode = WAL');
    // FULL: the WAL is fsynced at every COMMIT, so an acknowledged message survives power loss too.
    // NORMAL (with WAL): a COMMIT is written to the WAL file, not synced; checkpoints still sync.
    // A process that dies loses nothing committed (the OS has the bytes); an OS crash may lose the
    // last commits, never corrupt the database.
    await writer.exec(`PRAGMA synchronous = ${syncCommits ? 'FULL' : 'NORMAL'}; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -8000;`);
    await migrate(writer, migrations);
    // Into the file itself now, so that its header shows the mark to anything reading bytes
    // (another Kotak start, `file`), not only to readers of the WAL. Not needed to run: on a full
    // disk Kotak must still start, so that mail can be deleted.
    if (!inMemory) await writer.get('PRAGMA wal_checkpoint(TRUNCATE)').catch((err: unknown) => log.warn({ err }, 'checkpoint at start failed'));
  } catch (err) {
    await writer.close().catch(() => undefined);
    throw err;
  }
  if (state === 'unmarked-kotak') log.info({ db: path }, 'marked a Kotak database made before databases carried application_id');
  let space: DiskSpace;
  let reader: Connection;
  let checkpoints: Connection | null = null;
  try {
    space =
      inMemory || minFreeBytes <= 0
        ? UNLIMITED_DISK_SPACE
        : await openDiskSpace({ directory: dirname(path), reservePath: `${path}.reserve`, minFreeBytes }, { log });
    // A second connection lets reads proceed while a batch commits (WAL readers never block).
    reader = inMemory ? writer : await openConnection(path, { exclusive: true });
    await reader.exec(CREATE_FULL_TEXT_TERMS);
    if (!inMemory) {
      await reader.exec('PRAGMA query_only = ON; PRAGMA cache_size = -8000;');
      checkpoints = await openConnection(path, { exclusive: true });
      // The writer still checkpoints past a bound: beside a writer that never pauses, no background
      // checkpoint finds the WAL wholly copied, and SQLite starts the WAL over only after one does.
      // By then the background ones have copied nearly all of it: what is left is a short copy and
      // the syncs, once per WAL_RESTART_PAGES instead of once per 1,000 pages.
      await writer.exec(`PRAGMA wal_autocheckpoint = ${WAL_RESTART_PAGES}`);
    }
  } catch (err) {
    await checkpoints?.close().catch(() => undefined);
    await writer.close().catch(() => undefined);
    throw err;
  }
  const checkpointer = checkpoints ? createCheckpointer({ connection: checkpoints, log }) : null;

  const rawFiles = inMemory ? null : openRawFiles(`${path}.raw`, { sync: syncCommits });
  if (rawFiles) {
    // Files a crash left without a committed row (written, never committed; or deleted rows
    // whose files were not yet removed). Recent ones stay: they may belong to an insert of
    // another process on the same database, between its file and its commit. A later start
    // sweeps them if they are still strays.
    const named = new Set(await filesWhere('1', []));
    const swept = await rawFiles.sweep((name) => named.has(name), STRAY_FILE_MIN_AGE_MS);
    if (swept > 0) log.info({ files: swept }, 'removed raw message files without a stored message');
  }
  const spool = inMemory ? null : openSpool(`${path}.raw`, rawFileMinBytes);
  if (spool) {
    // Any spool file now was left by a process that died while receiving (we hold the lock).
    const swept = await spool.sweep();
    if (swept > 0) log.info({ files: swept }, 'removed spool files of messages being received when Kotak stopped');
  }

  // Migration 014's row; absent only while a test holds the database at an older schema.
  const hasIdentity = (await writer.get('SELECT 1 AS x FROM sqlite_master WHERE type = ? AND name = ?', ['table', 'store_identity'])) !== undefined;
  // Above every seq a message holds and every seq a deleted one held: a seq (IMAP's UID) is never given twice.
  let nextSeq =
    ((
      await writer.get<{ max: number | null }>(
        hasIdentity ? 'SELECT MAX(IFNULL((SELECT MAX(seq) FROM messages), 0), (SELECT seq_high_water FROM store_identity)) AS max' : 'SELECT MAX(seq) AS max FROM messages',
      )
    )?.max ?? 0) + 1;
  let writeChain: Promise<unknown> = Promise.resolve();
  const pending: PendingInsert[] = [];
  let flushQueued = false;
  let closed = false;

  /** Runs write operations one at a time, in call order. */
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = writeChain.then(work).finally(() => checkpointer?.wrote());
    writeChain = result.catch(() => undefined);
    return result;
  }

  /** The seq of each of these ids that is a message, in a write transaction (tag changes). */
  async function existingSeqs(ids: readonly string[]): Promise<{ seq: number; id: string }[]> {
    const found: { seq: number; id: string }[] = [];
    for (const chunk of slices([...new Set(ids)], ID_SLICE)) {
      found.push(...(await writer.all<{ seq: number; id: string }>(`SELECT seq, id FROM messages WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk)));
    }
    return found;
  }

  /** The id of the tag of this name (the same without regard to case), made if new. */
  async function tagIdOf(name: string): Promise<number> {
    await writer.run('INSERT OR IGNORE INTO tags (name) VALUES (?)', [name]);
    return (await writer.get<{ id: number }>('SELECT id FROM tags WHERE name = ?', [name]))!.id;
  }

  const transaction = <T>(work: () => Promise<T>): Promise<T> => inImmediateTransaction(writer, work);

  const fullText = createFtsIndexer({ writer, exclusive, log, delayMs: options.indexDelayMs });

  /**
   * A search within a scope, once the full-text index holds every acknowledged message if it reads the index.
   * IMAP's may-contain terms are answered by a scan of the scope's rows, or of `ids` only when given (find).
   */
  async function searchFor(scope: MailboxScope, query: SearchQuery, drive = true, ids: readonly string[] | null = null): Promise<CompiledSearch> {
    if (readsFullText(query)) await fullText.catchUp();
    const packedMatches = new Map<string, number[]>();
    for (const value of substringValues(query)) packedMatches.set(value, await packedBodiesContaining(reader, value, looksInHtml(value)));
    const mayContain = mayContainTerms(query);
    // Rows found by id are filtered by scope without walking a mailbox's index (scopeFilter); a whole scope walks it.
    const narrowedSeqs = mayContain.length > 0 ? await scanMayContain(reader, mayContain, ids === null ? scopeCondition(scope) : scopeFilter(scope), ids) : undefined;
    const search = drive
      ? scopedSearch(scope, query, { drive, packedMatches, prefixTerms: await prefixTermsOf(query), trigramParts: await trigramPartsOf(query), narrowedSeqs })
      : scopedSearch(scope, query, { drive, packedMatches, narrowedSeqs });
    const before = drive && search.from === 'messages m' ? earliestBefore(query) : null;
    if (before === null) return search;
    // How many were received before it, counted in the index only and no further than the limit.
    const older = await reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages INDEXED BY messages_received_at WHERE received_at < ? LIMIT ?)', [
      before,
      BEFORE_BY_INDEX_MAX,
    ]);
    return (older?.n ?? 0) < BEFORE_BY_INDEX_MAX ? receivedAtIndexed(search) : search;
  }

  /** The index's terms for each driving word that has few enough of them (read after the catch-up, so they cover every acknowledged message). */
  async function prefixTermsOf(query: SearchQuery): Promise<PrefixTerms> {
    const found = new Map<string, string[]>();
    for (const word of drivingPrefixWords(query)) {
      if (found.has(word) || !expandable(word)) continue;
      const terms = await termsWithPrefix(reader, word);
      if (terms) found.set(word, terms);
    }
    return found;
  }

  /** The most selective part of each driving field value, where one is (probed after the catch-up, in the same index). */
  async function trigramPartsOf(query: SearchQuery): Promise<TrigramParts> {
    const parts = new Map<TrigramTerm, string>();
    for (const term of drivingTrigramTerms(query)) {
      const part = await selectivePart(reader, { value: term.value.toLowerCase(), match: (p) => trigramPhrase(term, p) });
      if (part !== null) parts.set(term, part);
    }
    return parts;
  }

  /**
   * How many messages match, and how many of them are unread. With no search terms that is the
   * scope's counts as migration 006's triggers keep them (a row per mailbox), so a list of the
   * newest mail never counts a million rows; a search counts its matches, at most `upTo` of them
   * when given (then `n` may be less than the matches: exactly `upTo` says "at least").
   */
  async function countMatching(scope: MailboxScope, query: SearchQuery, where: CompiledSearch, upTo?: number): Promise<{ n: number; unread: number }> {
    if (query.terms.length === 0) {
      const inScope = scopeCondition(scope);
      const kept = await reader.get<{ n: number; unread: number }>(
        `SELECT IFNULL(SUM(m.total), 0) AS n, IFNULL(SUM(m.unread), 0) AS unread FROM mailbox_counts m WHERE ${inScope.sql}`,
        inScope.params,
      );
      return kept ?? { n: 0, unread: 0 };
    }
    // LIMIT -1 is SQLite's "no limit": one statement for the exact count and the bounded one.
    const counted = await reader.get<{ n: number; unread: number }>(
      `SELECT COUNT(*) AS n, IFNULL(SUM(unread), 0) AS unread FROM (SELECT m.read = 0 AS unread FROM ${where.from} WHERE ${where.sql} LIMIT ?)`,
      [...where.params, upTo ?? -1],
    );
    return counted ?? { n: 0, unread: 0 };
  }

  /**
   * A bounded search's page from the newest match (no cursor) and its count, from one read of the
   * matches' seqs, newest first, up to the bound: a word's index entries are merged once, not once
   * for the count and again for the page (FTS5 merges a prefix's entries whole before it yields).
   */
  async function boundedFromNewest(where: CompiledSearch, start: number, limit: number, countUpTo: number): Promise<[total: number, page: SummaryRow[]]> {
    const seqs = (
      await reader.all<{ seq: number }>(`SELECT ${where.seq} AS seq FROM ${where.from} WHERE ${where.sql} ORDER BY ${where.seq} DESC LIMIT ?`, [...where.params, countUpTo])
    ).map((row) => row.seq);
    const onPage = seqs.slice(start, start + limit + 1);
    // A message deleted between the two reads is missing from the page, as it would be a moment later.
    const rows = onPage.length
      ? await reader.all<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE m.seq IN (${onPage.map(() => '?').join(',')}) ORDER BY m.seq DESC`, onPage)
      : [];
    return [seqs.length, rows];
  }

  /**
   * Runs a delete; when it meets a full disk (SQLite writes the WAL frames of a delete before it
   * frees anything), gives up the reserve, moves the WAL into the database and truncates it, and
   * tries once more. Without this, deleting mail failed exactly when it was needed most.
   */
  async function freeingSpace<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
      await space.releaseReserve();
      await writer.get('PRAGMA wal_checkpoint(TRUNCATE)').catch((checkpointErr: unknown) => log.warn({ err: checkpointErr }, 'checkpoint on a full disk failed'));
      return work();
    }
  }

  /** One statement, hence one implicit transaction: the batch commits whole or not at all. */
  async function writeBatch(batch: readonly PendingInsert[]): Promise<void> {
    const firstSeq = nextSeq;
    const params = batch.flatMap((item) => rowFor(nextSeq++, item));
    const cut = batch.flatMap((item, i) => (item.message.parsed.ok && item.message.parsed.message.textCut ? [firstSeq + i] : []));
    const tagged = batch.flatMap((item, i) => (item.message.tags?.length ? [{ item, seq: firstSeq + i }] : []));
    const marked = batch.flatMap((item, i) => {
      const flags = item.message.initialFlags;
      return flags && (flags.flagged || flags.deleted) ? [{ seq: firstSeq + i, flagged: flags.flagged, deleted: flags.deleted }] : [];
    });
    const announced = batch.some((item) => item.message.webhookEndpoints?.length);
    if (cut.length === 0 && tagged.length === 0 && marked.length === 0 && !announced) await writer.runPrepared(ingestSql(batch.length), params);
    else {
      await transaction(async () => {
        await writer.runPrepared(ingestSql(batch.length), params);
        if (cut.length > 0) await markTextCut(cut);
        for (const { item, seq } of tagged) item.summary = { ...item.summary, tags: await tagNewMessage(seq, item.message.tags!) };
        // IMAP APPEND's \Flagged / \Deleted (migration 014): rare, so not columns of the ingest view.
        for (const { seq, flagged, deleted } of marked) await writer.run('UPDATE messages SET flagged = ?, deleted = ? WHERE seq = ?', [flagged ? 1 : 0, deleted ? 1 : 0, seq]);
        // The webhook outbox (migration 015), after the tags: its payload is the summary insert
        // resolves to. One multi-row INSERT for the whole batch's deliveries.
        if (announced) await insertWebhookRows(writer, batch.flatMap((item) => storedMessageDrafts(item.message.webhookEndpoints, item.summary)), now(), false);
      });
    }
    fullText.committed();
  }

  /** A new row's tags, in its insert's transaction; returns them as stored (an existing tag keeps its first spelling). */
  async function tagNewMessage(seq: number, names: readonly string[]): Promise<string[]> {
    const stored: string[] = [];
    for (const name of names) {
      const tagId = await tagIdOf(name);
      await writer.run('INSERT OR IGNORE INTO message_tags (seq, tag_id) VALUES (?, ?)', [seq, tagId]);
      stored.push((await writer.get<{ name: string }>('SELECT name FROM tags WHERE id = ?', [tagId]))!.name);
    }
    return [...new Set(stored)].sort(byTagName);
  }

  /**
   * Flags the bounded text of these new rows (migration 012), in their insert's transaction. Not a
   * column of the message_ingest view: few messages have it, and the view stays as it was.
   */
  async function markTextCut(seqs: readonly number[]): Promise<void> {
    await writer.run(`UPDATE message_bodies SET text_cut = 1 WHERE seq IN (${seqs.map(() => '?').join(',')})`, seqs);
  }

  function takeBatch(): PendingInsert[] {
    let bytes = 0;
    let count = 0;
    while (count < pending.length && count < MAX_BATCH_MESSAGES && (count === 0 || bytes + pending[count]!.message.raw.length <= MAX_BATCH_BYTES)) {
      bytes += pending[count]!.message.raw.length;
      count += 1;
    }
    return pending.splice(0, count);
  }

  async function flush(): Promise<void> {
    flushQueued = false;
    const batch = takeBatch();
    if (pending.length > 0) scheduleFlush();
    await writeBatchOrEach(batch, writeBatch, fail, log);
  }

  /** A message that will not be stored: its file, if it has one, goes too. */
  function fail(item: PendingInsert, err: unknown): void {
    item.reject(err);
    if (item.rawFile !== null) void removeFiles([item.rawFile]);
  }

  /** Best effort: a file left behind is only disk space, and the next start sweeps it. */
  async function removeFiles(names: readonly string[]): Promise<void> {
    if (!rawFiles || names.length === 0) return;
    await rawFiles.remove(names).catch((err: unknown) => log.warn({ err, files: names.length }, 'could not remove raw message files'));
  }

  /** The files named by the message_raw rows matching `where`: read before those rows are deleted. */
  async function filesWhere(where: string, params: readonly unknown[]): Promise<string[]> {
    if (!rawFiles) return [];
    const rows = await writer.all<{ file: string }>(`SELECT file FROM message_raw WHERE file IS NOT NULL AND ${where}`, params);
    return rows.map((r) => r.file);
  }

  function scheduleFlush(): void {
    if (flushQueued) return;
    flushQueued = true;
    void exclusive(flush);
  }

  async function rowsWhere(sql: string, params: unknown[], from = 'messages m'): Promise<{ seq: number; id: string; mailbox: string }[]> {
    return reader.all<{ seq: number; id: string; mailbox: string }>(`SELECT m.seq, m.id, m.mailbox FROM ${from} WHERE ${sql} ORDER BY m.seq`, params);
  }

  /** Deletes the given rows in slices; the trigger removes bodies, raw bytes and index entries. */
  function deleteSeqs(rows: readonly { seq: number; id: string; mailbox: string }[]): Promise<RemovedMessage[]> {
    return exclusive(async () => {
      for (let i = 0; i < rows.length; i += DELETE_SLICE) {
        const seqs = rows.slice(i, i + DELETE_SLICE).map((r) => r.seq);
        const inSlice = `seq IN (${seqs.map(() => '?').join(',')})`;
        const files = await filesWhere(inSlice, seqs);
        await freeingSpace(() => transaction(() => writer.run(`DELETE FROM messages WHERE ${inSlice}`, seqs)));
        await removeFiles(files);
      }
      return rows.map((r) => ({ id: r.id, mailbox: r.mailbox }));
    });
  }

  /**
   * A tag renamed for the scope's messages only: they move from `from` to `to` (an existing tag of
   * that name, whatever its case, or a new one); the same tag on other mailboxes' messages stays.
   */
  function renameTagWithin(scope: MailboxScope, from: string, to: string): Promise<number> {
    const inScope = scopeCondition(scope);
    return exclusive(() =>
      transaction(async () => {
        await writer.run(PRUNE_UNUSED_TAGS);
        const source = await writer.get<{ id: number }>('SELECT id FROM tags WHERE name = ?', [from]);
        if (!source) return 0;
        const held = `SELECT mt.seq FROM message_tags mt JOIN messages m ON m.seq = mt.seq WHERE mt.tag_id = ? AND ${inScope.sql}`;
        const seqs = (await writer.all<{ seq: number }>(held, [source.id, ...inScope.params])).map((r) => r.seq);
        if (seqs.length === 0) return 0;
        await writer.run('INSERT OR IGNORE INTO tags (name) VALUES (?)', [to]);
        const target = (await writer.get<{ id: number }>('SELECT id FROM tags WHERE name = ?', [to]))!;
        if (target.id === source.id) {
          // Only the case changes. Tags are one spelling for all: changed only if no other
          // mailbox's message holds the tag, whose owners did not ask for it.
          const total = (await writer.get<{ n: number }>('SELECT COUNT(*) AS n FROM message_tags WHERE tag_id = ?', [source.id]))!.n;
          if (total === seqs.length) await writer.run('UPDATE tags SET name = ? WHERE id = ?', [to, source.id]);
          return seqs.length;
        }
        for (const chunk of slices(seqs, ID_SLICE)) {
          const marks = chunk.map(() => '?').join(',');
          await writer.run(`INSERT OR IGNORE INTO message_tags (seq, tag_id) SELECT seq, ? FROM message_tags WHERE tag_id = ? AND seq IN (${marks})`, [target.id, source.id, ...chunk]);
          await writer.run(`DELETE FROM message_tags WHERE tag_id = ? AND seq IN (${marks})`, [source.id, ...chunk]);
        }
        await writer.run(PRUNE_UNUSED_TAGS);
        return seqs.length;
      }),
    );
  }

  return {
    relay: createRelayStore({ reader, writer, exclusive }),
    webhooks: createSqliteWebhookStore({ reader, writer, exclusive }),
    space,
    fullTextBacklog: () => fullText.backlog(),
    spool,

    async insert(message) {
      if (closed) throw new KotakError('shutting_down', 'the store is closed');
      const summary = summarize(message);
      let rawFile: string | null = null;
      if (message.spooled || (rawFiles && message.raw.length >= rawFileMinBytes)) {
        // Written and synced before the row joins a batch: the files of a batch's messages are
        // written side by side, and the batch's commit no longer carries their bytes.
        await writeRawFile(rawFiles, message);
        rawFile = message.id;
        message = { ...message, raw: NO_BYTES };
      }
      if (closed) {
        if (rawFile !== null) await removeFiles([rawFile]);
        throw new KotakError('shutting_down', 'the store is closed');
      }
      const stored = packed(message);
      return new Promise((resolve, reject) => {
        pending.push({ message, summary, rawFile, stored, resolve, reject });
        scheduleFlush();
      });
    },

    async list(scope, { query, limit, cursor, after, start = 0, boundedTotal = false }: ListOptions): Promise<MessagePage> {
      const where = await searchFor(scope, query);
      const newerThan = after ? parseCursor(after) : null;
      if (newerThan !== null && start > 0) throw new KotakError('invalid_request', 'start cannot be combined with after');
      const olderThan = newerThan === null && cursor ? parseCursor(cursor) : null;
      const bound = newerThan !== null ? `AND ${where.seq} > ?` : olderThan !== null ? `AND ${where.seq} < ?` : '';
      const boundParams = newerThan !== null ? [newerThan] : olderThan !== null ? [olderThan] : [];
      // A newer page is read upwards from its cursor (then shown newest first like every page).
      const direction = newerThan !== null ? 'ASC' : 'DESC';
      const countUpTo = boundedTotal && query.terms.length > 0 ? start + limit + SEARCH_TOTAL_BOUND : undefined;
      const [total, rows] =
        countUpTo !== undefined && newerThan === null && olderThan === null
          ? await boundedFromNewest(where, start, limit, countUpTo)
          : await Promise.all([
              countMatching(scope, query, where, countUpTo).then((count) => count.n),
              start > 0 && bound === '' && isEverything(where)
                ? reader.all<SummaryRow>(NEWEST_BY_OFFSET, [limit + 1, start])
                : reader.all<SummaryRow>(
                    `SELECT ${SUMMARY_COLUMNS} FROM ${where.from} WHERE ${where.sql} ${bound} ORDER BY ${where.seq} ${direction} LIMIT ? OFFSET ?`,
                    [...where.params, ...boundParams, limit + 1, start],
                  ),
            ]);
      const exists = async (comparison: '<' | '>', seq: number) =>
        (await reader.get(`SELECT 1 AS x FROM ${where.from} WHERE ${where.sql} AND ${where.seq} ${comparison} ? LIMIT 1`, [...where.params, seq])) !== undefined;
      const { page, nextCursor, prevCursor } = await cursorPage(rows, { limit, newer: newerThan !== null, older: olderThan !== null, start, exists });
      return { total, totalIsLowerBound: total === countUpTo, messages: page.map(toSummary), nextCursor, prevCursor };
    },

    async find(scope, { query, since, ids, limit }: FindOptions) {
      if (ids && ids.length === 0) return [];
      // Not driven by an index: finds look among a few ids or the newest messages (waits).
      const where = await searchFor(scope, query, false, ids ?? null);
      const conditions = [where.sql];
      const params = [...where.params];
      if (since !== null && since !== undefined) {
        conditions.push('m.received_at >= ?');
        params.push(since);
      }
      if (ids) {
        conditions.push(`m.id IN (${ids.map(() => '?').join(',')})`);
        params.push(...ids);
      }
      const rows = await reader.all<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM ${where.from} WHERE ${conditions.join(' AND ')} ORDER BY ${where.seq} LIMIT ?`, [...params, limit]);
      return rows.map(toSummary);
    },

    async get(scope, id) {
      const inScope = scopeCondition(scope);
      const row = await reader.get<DetailRow>(
        `SELECT ${SUMMARY_COLUMNS}, m.route_rule, m.reply_to_json, m.envelope_json, m.parse_error, m.date_header, b.text, b.html, b.headers_json, b.attachments_json, b.text_cut
           FROM messages m LEFT JOIN message_bodies b ON b.seq = m.seq WHERE m.id = ? AND ${inScope.sql}`,
        [id, ...inScope.params],
      );
      return row ? toDetail(row) : null;
    },

    async getRaw(scope, id) {
      const inScope = scopeCondition(scope);
      const row = await reader.get<{ raw: Buffer; packed: number; file: string | null }>(
        `SELECT r.raw, r.packed, r.file FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ? AND ${inScope.sql}`,
        [id, ...inScope.params],
      );
      if (!row) return null;
      if (row.file === null) return unpackRaw(row.raw, row.packed === 1);
      if (!rawFiles) throw new KotakError('storage_failed', `message ${id} is kept in a file, and this store has no files`);
      try {
        return await rawFiles.read(row.file);
      } catch (err) {
        // A deleted-meanwhile message reads as gone; a missing file under a live row is damage.
        if (!(await reader.get('SELECT 1 AS x FROM messages WHERE id = ?', [id]))) return null;
        throw new KotakError('storage_failed', `the raw bytes of message ${id} could not be read from ${row.file}: ${(err as Error).message}`, { cause: err });
      }
    },

    async setRead(scope, id, read) {
      const inScope = scopeCondition(scope);
      const { changes } = await exclusive(() =>
        writer.run(`UPDATE messages AS m SET read = ? WHERE m.id = ? AND ${inScope.sql}`, [read ? 1 : 0, id, ...inScope.params]),
      );
      if (changes === 0) return null;
      const row = await reader.get<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE m.id = ?`, [id]);
      return row ? toSummary(row) : null;
    },

    async setReadMatching(scope, query: SearchQuery, read: boolean) {
      const where = await searchFor(scope, query);
      // RETURNING: the mailboxes of exactly the rows this statement changed.
      const changed = await exclusive(() =>
        writer.all<{ mailbox: string }>(
          `UPDATE messages SET read = ? WHERE read != ? AND seq IN (SELECT m.seq FROM ${where.from} WHERE ${where.sql}) RETURNING mailbox`,
          [read ? 1 : 0, read ? 1 : 0, ...where.params],
        ),
      );
      const byMailbox = new Map<string, number>();
      for (const { mailbox } of changed) byMailbox.set(mailbox, (byMailbox.get(mailbox) ?? 0) + 1);
      return byMailbox;
    },

    delete(scope, id) {
      const inScope = scopeCondition(scope);
      const row = `(SELECT m.seq FROM messages m WHERE m.id = ? AND ${inScope.sql})`;
      const params = [id, ...inScope.params];
      return exclusive(async () => {
        const files = await filesWhere(`seq = ${row}`, params);
        const { changes } = await freeingSpace(() => writer.run(`DELETE FROM messages WHERE seq = ${row}`, params));
        await removeFiles(files);
        return changes > 0;
      });
    },

    async deleteMatching(scope, query: SearchQuery) {
      const where = await searchFor(scope, query);
      return deleteSeqs(await rowsWhere(where.sql, where.params, where.from));
    },

    async clear(scope) {
      // A scoped clear is a delete of the scope's rows; only the whole store is emptied wholesale.
      if (scope.kind === 'only') {
        const inScope = scopeCondition(scope);
        return (await deleteSeqs(await rowsWhere(inScope.sql, inScope.params))).length;
      }
      return exclusive(async () => {
        // Only the files of committed rows: a file written for an insert still queued is not theirs.
        const files = await filesWhere('1', []);
        const changes = await freeingSpace(() =>
          transaction(async () => {
            const { changes } = await writer.run('DELETE FROM messages WHERE 1');
            // The per-row trigger already emptied the other tables; these make sure, cheaply
            // ('delete-all' empties the contentless index of migration 009 at once).
            await writer.exec(
              "DELETE FROM message_bodies; DELETE FROM message_raw; INSERT INTO message_fts (message_fts) VALUES ('delete-all'); DELETE FROM message_fts_pending;",
            );
            return changes;
          }),
        );
        await removeFiles(files);
        return changes;
      });
    },

    async prune(scope, { maxMessages, receivedBefore }: PruneLimits) {
      const inScope = scopeCondition(scope);
      const conditions: string[] = [];
      const params: unknown[] = [];
      if (receivedBefore !== null && receivedBefore !== undefined) {
        conditions.push('m.received_at < ?');
        params.push(receivedBefore);
      }
      if (maxMessages !== null && maxMessages !== undefined) {
        const boundary = await reader.get<{ seq: number }>(`SELECT m.seq FROM messages m WHERE ${inScope.sql} ORDER BY m.seq DESC LIMIT 1 OFFSET ?`, [
          ...inScope.params,
          maxMessages,
        ]);
        if (boundary) {
          conditions.push('m.seq <= ?');
          params.push(boundary.seq);
        }
      }
      if (conditions.length === 0) return [];
      return deleteSeqs(await rowsWhere(`${inScope.sql} AND (${conditions.join(' OR ')})`, [...inScope.params, ...params]));
    },

    async mailboxCounts(scope) {
      // The counts the triggers of migration 006 keep: a row per mailbox, never a scan of messages.
      const inScope = scopeCondition(scope);
      return reader.all<MailboxCount>(
        `SELECT m.mailbox AS name, m.total, m.unread, m.size FROM mailbox_counts m WHERE ${inScope.sql} ORDER BY m.mailbox`,
        inScope.params,
      );
    },

    async stats(scope): Promise<StoreStats> {
      const inScope = scopeCondition(scope);
      const row = await reader.get<StoreStats>(
        // The counts the triggers of migration 006 keep (a row per mailbox), not a scan of messages.
        `SELECT IFNULL(SUM(m.total), 0) AS total, IFNULL(SUM(m.unread), 0) AS unread, IFNULL(SUM(m.size), 0) AS size FROM mailbox_counts m WHERE ${inScope.sql}`,
        inScope.params,
      );
      return row ?? { total: 0, unread: 0, size: 0 };
    },

    async ping() {
      await reader.get('SELECT 1');
    },

    async close() {
      closed = true;
      fullText.stop();
      await exclusive(async () => {
        while (pending.length > 0) await flush();
      });
      await checkpointer?.stop();
      if (checkpoints) await checkpoints.close();
      if (reader !== writer) await reader.close();
      await writer.close();
    },

    async folderIndex(scope, mailbox, { afterSeq = 0, limit }) {
      if (!mailboxInScope(scope, mailbox) || limit <= 0) return [];
      // Newest first down messages_mailbox_seq, then turned oldest first.
      const rows = await reader.all<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM messages m WHERE m.mailbox = ? AND m.seq > ? ORDER BY m.seq DESC LIMIT ?`, [mailbox, afterSeq, limit]);
      return rows.reverse().map(toFolderEntry);
    },

    async flagsOf(scope, ids) {
      const inScope = scopeFilter(scope);
      const entries = new Map<string, FolderEntry>();
      for (const chunk of slices([...new Set(ids)], ID_SLICE)) {
        const rows = await reader.all<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM messages m WHERE m.id IN (${chunk.map(() => '?').join(',')}) AND ${inScope.sql}`, [
          ...chunk,
          ...inScope.params,
        ]);
        for (const row of rows) entries.set(row.id, toFolderEntry(row));
      }
      return entries;
    },

    setFlags(scope, ids, { read, flagged, deleted }) {
      const inScope = scopeFilter(scope);
      const bit = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);
      return exclusive(() =>
        transaction(async () => {
          const changed: FlagsChanged[] = [];
          for (const chunk of slices([...new Set(ids)], ID_SLICE)) {
            const rows = await writer.all<{ seq: number; id: string; mailbox: string; read: number; flagged: number; deleted: number }>(
              `SELECT m.seq, m.id, m.mailbox, m.read, m.flagged, m.deleted FROM messages m WHERE m.id IN (${chunk.map(() => '?').join(',')}) AND ${inScope.sql}`,
              [...chunk, ...inScope.params],
            );
            const seqs: number[] = [];
            for (const row of rows) {
              const readChanged = read !== undefined && row.read !== bit(read);
              const marks = (flagged !== undefined && row.flagged !== bit(flagged)) || (deleted !== undefined && row.deleted !== bit(deleted));
              if (!readChanged && !marks) continue;
              seqs.push(row.seq);
              changed.push({ id: row.id, mailbox: row.mailbox, read: readChanged ? read! : null, marks });
            }
            if (seqs.length === 0) continue;
            await writer.run(
              `UPDATE messages SET read = IFNULL(?, read), flagged = IFNULL(?, flagged), deleted = IFNULL(?, deleted) WHERE seq IN (${seqs.map(() => '?').join(',')})`,
              [bit(read), bit(flagged), bit(deleted), ...seqs],
            );
          }
          return changed;
        }),
      );
    },

    async uidValidity() {
      const row = hasIdentity ? await reader.get<{ uid_validity: number }>('SELECT uid_validity FROM store_identity') : undefined;
      if (!row) throw new KotakError('storage_failed', 'this database has no UIDVALIDITY (migration 014 was not applied)');
      return row.uid_validity;
    },

    async highestSeq() {
      return nextSeq - 1;
    },

    async listAt(scope, { query, start, limit }: OffsetListOptions): Promise<OffsetPage> {
      const where = await searchFor(scope, query);
      const [count, rows] = await Promise.all([
        countMatching(scope, query, where),
        start > 0 && isEverything(where)
          ? reader.all<SummaryRow>(NEWEST_BY_OFFSET, [limit, start])
          : reader.all<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM ${where.from} WHERE ${where.sql} ORDER BY ${where.seq} DESC LIMIT ? OFFSET ?`, [...where.params, limit, start]),
      ]);
      return { total: count.n, unread: count.unread, messages: rows.map(toSummary) };
    },

    async summaryExtras(ids) {
      const extras = new Map<string, SummaryExtras>();
      for (const chunk of slices([...new Set(ids)], ID_SLICE)) {
        const marks = chunk.map(() => '?').join(',');
        const [rows, tagRows] = await Promise.all([
          // The attachment list is read only when there is one: it sits behind the bodies in the row.
          reader.all<ExtrasRow>(
            `SELECT m.id, m.reply_to_json, m.envelope_json,
                    CASE WHEN m.has_attachments = 1 OR m.has_inline = 1 THEN b.attachments_json END AS attachments_json
               FROM messages m LEFT JOIN message_bodies b ON b.seq = m.seq WHERE m.id IN (${marks})`,
            chunk,
          ),
          reader.all<{ id: string; name: string }>(
            `SELECT m.id, t.name FROM messages m JOIN message_tags mt ON mt.seq = m.seq JOIN tags t ON t.id = mt.tag_id WHERE m.id IN (${marks})`,
            chunk,
          ),
        ]);
        const tags = new Map<string, string[]>();
        for (const { id, name } of tagRows) (tags.get(id) ?? tags.set(id, []).get(id)!).push(name);
        for (const row of rows) extras.set(row.id, toExtras(row, tags.get(row.id) ?? []));
      }
      return extras;
    },

    setTags(ids, tags) {
      const names = uniqueNames(tags);
      return exclusive(() =>
        transaction(async () => {
          await writer.run(PRUNE_UNUSED_TAGS);
          const found = await existingSeqs(ids);
          if (found.length === 0) return [];
          const tagIds: number[] = [];
          for (const name of names) tagIds.push(await tagIdOf(name));
          for (const chunk of slices(found, ID_SLICE)) {
            await writer.run(`DELETE FROM message_tags WHERE seq IN (${chunk.map(() => '?').join(',')})`, chunk.map((r) => r.seq));
          }
          const pairs = found.flatMap((r) => tagIds.map((tagId) => [r.seq, tagId] as const));
          for (const chunk of slices(pairs, ID_SLICE)) {
            await writer.run(`INSERT INTO message_tags (seq, tag_id) VALUES ${chunk.map(() => '(?, ?)').join(', ')}`, chunk.flat());
          }
          await writer.run(PRUNE_UNUSED_TAGS);
          return found.map((r) => r.id);
        }),
      );
    },

    changeTags(ids, add, remove) {
      const removing = uniqueNames(remove);
      const removed = new Set(removing.map((name) => name.toLowerCase()));
      const adding = uniqueNames(add).filter((name) => !removed.has(name.toLowerCase()));
      return exclusive(() =>
        transaction(async () => {
          await writer.run(PRUNE_UNUSED_TAGS);
          const found = await existingSeqs(ids);
          if (found.length === 0 || (adding.length === 0 && removing.length === 0)) return [];
          const changed = new Set<number>();
          const removeIds: number[] = [];
          for (const name of removing) {
            const tag = await writer.get<{ id: number }>('SELECT id FROM tags WHERE name = ?', [name]);
            if (tag) removeIds.push(tag.id);
          }
          for (const tagId of removeIds) {
            for (const chunk of slices(found, ID_SLICE)) {
              const marks = chunk.map(() => '?').join(',');
              const held = await writer.all<{ seq: number }>(`SELECT seq FROM message_tags WHERE tag_id = ? AND seq IN (${marks})`, [tagId, ...chunk.map((r) => r.seq)]);
              if (held.length === 0) continue;
              for (const row of held) changed.add(row.seq);
              await writer.run(`DELETE FROM message_tags WHERE tag_id = ? AND seq IN (${marks})`, [tagId, ...chunk.map((r) => r.seq)]);
            }
          }
          for (const name of adding) {
            const tagId = await tagIdOf(name);
            for (const chunk of slices(found, ID_SLICE)) {
              const marks = chunk.map(() => '?').join(',');
              const held = new Set(
                (await writer.all<{ seq: number }>(`SELECT seq FROM message_tags WHERE tag_id = ? AND seq IN (${marks})`, [tagId, ...chunk.map((r) => r.seq)])).map((r) => r.seq),
              );
              const missing = chunk.filter((r) => !held.has(r.seq));
              if (missing.length === 0) continue;
              for (const row of missing) changed.add(row.seq);
              await writer.run(`INSERT INTO message_tags (seq, tag_id) VALUES ${missing.map(() => '(?, ?)').join(', ')}`, missing.flatMap((r) => [r.seq, tagId]));
            }
          }
          await writer.run(PRUNE_UNUSED_TAGS);
          return found.filter((r) => changed.has(r.seq)).map((r) => r.id);
        }),
      );
    },

    async tagCounts(scope): Promise<TagCount[]> {
      if (scope.kind === 'all') {
        return reader.all<TagCount>('SELECT t.name AS name, COUNT(*) AS count FROM tags t JOIN message_tags mt ON mt.tag_id = t.id GROUP BY t.id ORDER BY t.name');
      }
      const inScope = scopeCondition(scope);
      return reader.all<TagCount>(
        `SELECT t.name AS name, COUNT(*) AS count FROM tags t JOIN message_tags mt ON mt.tag_id = t.id JOIN messages m ON m.seq = mt.seq
          WHERE ${inScope.sql} GROUP BY t.id ORDER BY t.name`,
        inScope.params,
      );
    },

    renameTag(scope, from, to) {
      if (scope.kind === 'only') return renameTagWithin(scope, from, to);
      return exclusive(() =>
        transaction(async () => {
          // A name left over from deleted messages must not block the rename or lend its spelling.
          await writer.run(PRUNE_UNUSED_TAGS);
          const source = await writer.get<{ id: number }>('SELECT id FROM tags WHERE name = ?', [from]);
          if (!source) return 0;
          const held = (await writer.get<{ n: number }>('SELECT COUNT(*) AS n FROM message_tags WHERE tag_id = ?', [source.id]))?.n ?? 0;
          const target = await writer.get<{ id: number }>('SELECT id FROM tags WHERE name = ?', [to]);
          if (!target || target.id === source.id) {
            // Also how a tag changes only its case.
            await writer.run('UPDATE tags SET name = ? WHERE id = ?', [to, source.id]);
          } else {
            await writer.run('INSERT OR IGNORE INTO message_tags (seq, tag_id) SELECT seq, ? FROM message_tags WHERE tag_id = ?', [target.id, source.id]);
            await writer.run('DELETE FROM message_tags WHERE tag_id = ?', [source.id]);
            await writer.run('DELETE FROM tags WHERE id = ?', [source.id]);
          }
          return held;
        }),
      );
    },

    deleteTag(scope, name) {
      const inScope = scopeCondition(scope);
      return exclusive(() =>
        transaction(async () => {
          const tag = await writer.get<{ id: number }>('SELECT id FROM tags WHERE name = ?', [name]);
          if (!tag) return 0;
          const { changes } = await writer.run(
            `DELETE FROM message_tags WHERE tag_id = ? AND seq IN (SELECT m.seq FROM messages m WHERE ${inScope.sql})`,
            [tag.id, ...inScope.params],
          );
          await writer.run(PRUNE_UNUSED_TAGS);
          return changes;
        }),
      );
    },
  };
}

// IMAP folders (migration 014).

interface FolderRow extends FolderColumns {
  read: number;
  flagged: number;
  deleted: number;
  tags_json: string;
}

const FOLDER_COLUMNS =
  'm.seq, m.id, m.mailbox, m.size, m.received_at, m.read, m.flagged, m.deleted, ' +
  '(SELECT json_group_array(t.name) FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.seq = m.seq) AS tags_json';

function toFolderEntry(row: FolderRow): FolderEntry {
  return folderEntryOf(row, { read: row.read === 1, flagged: row.flagged === 1, deleted: row.deleted === 1, tags: JSON.parse(row.tags_json) as string[] });
}

// Tags (migration 003) and what Mailpit's lists show beyond a summary.

/** Ids per `IN (...)`: well under SQLite's limit of bound parameters. */
const ID_SLICE = 500;

const PRUNE_UNUSED_TAGS = 'DELETE FROM tags WHERE NOT EXISTS (SELECT 1 FROM message_tags mt WHERE mt.tag_id = tags.id)';

interface ExtrasRow {
  id: string;
  reply_to_json: string;
  envelope_json: string;
  attachments_json: string | null;
}

function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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

function toExtras(row: ExtrasRow, tags: string[]): SummaryExtras {
  const attachments = row.attachments_json ? (JSON.parse(row.attachments_json) as AttachmentInfo[]) : [];
  const inline = attachments.filter((a) => a.inline).length;
  return {
    tags: tags.sort(byTagName),
    replyTo: JSON.parse(row.reply_to_json) as Address[],
    attachments: attachments.length - inline,
    inline,
    user: (JSON.parse(row.envelope_json) as Envelope).user ?? null,
  };
}
