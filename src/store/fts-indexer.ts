/**
 * The full-text index, built behind the commit (issue 19). A message commits with a row in
 * message_fts_pending (migration 008); this indexer moves its text into the FTS5 table in
 * large batches, shortly after the commits and after a restart. FTS5 writes a segment per
 * transaction and merges segments as they pile up: ten messages a commit cost it several times
 * what a thousand do, and that work was in front of every `250`.
 *
 * Nothing gets less correct: `catchUp()` resolves once every message committed before the call is
 * indexed, and the store calls it before any query that reads the index (search-sql's
 * `readsFullText`), so a search right after a `250` sees that message, through the same index.
 */
import type { Logger } from 'pino';
import type { Connection } from './sqlite-driver.js';

/**
 * A message's body (its text, then its HTML's text) is indexed up to this many characters
 * (256 Ki): words past it are not found by a full-text search; the stored text and raw bytes stay
 * whole. It bounds what one huge text (a 50 MB log mailed by a CI job) costs every later search
 * and write. Migration 008's trigger holds the same number (SQL has no parameters there).
 */
export const MAX_INDEXED_BODY_CHARS = 256 * 1024;

/** The part of a text that can be indexed (never ending in half a surrogate pair). */
export function indexedBody(body: string): string {
  if (body.length <= MAX_INDEXED_BODY_CHARS) return body;
  const cut = /[\uD800-\uDBFF]/.test(body[MAX_INDEXED_BODY_CHARS - 1]!) ? MAX_INDEXED_BODY_CHARS - 1 : MAX_INDEXED_BODY_CHARS;
  return body.slice(0, cut);
}

/**
 * A text as the index is given it: NULs as spaces. The tokenizer takes a NUL for a separator
 * anyway, but the indexing trigger cuts the body with SQL's substr(), which reads a text only up
 * to its first NUL: every word after one was lost.
 */
export function withoutNuls(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, ' ') : text;
}

/** Messages per indexing transaction at most: large batches are what make FTS5 cheap. */
const INDEX_BATCH_MESSAGES = 2_000;
/**
 * Index text per transaction at most, counted in characters as `message_fts_pending.bytes` holds
 * it (near enough to bytes for a bound): FTS5 holds a batch's terms in memory until it commits.
 */
const INDEX_BATCH_BYTES = 16 * 1024 * 1024;
/** How long committed messages wait for company before a pass: under load, batches fill up. */
const INDEX_DELAY_MS = 50;
/** After a failed pass (a full disk), the next one waits this long. */
const RETRY_DELAY_MS = 1_000;

export interface FtsIndexerDeps {
  readonly writer: Connection;
  /** The store's write queue: a pass runs between commits, never beside one. */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  readonly log: Logger;
  /** How long commits wait for company before a pass (default INDEX_DELAY_MS; tests lengthen it to hold a backlog). */
  readonly delayMs?: number;
}

export interface FtsIndexer {
  /** Messages were committed (called on the write queue): a pass follows shortly. */
  committed(): void;
  /** Resolves once every message committed before the call is in the index. */
  catchUp(): Promise<void>;
  /** Messages committed and not yet indexed. */
  backlog(): Promise<number>;
  /** No further passes (the store is closing); what is pending waits for the next start. */
  stop(): void;
}

export function createFtsIndexer({ writer, exclusive, log, delayMs = INDEX_DELAY_MS }: FtsIndexerDeps): FtsIndexer {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  // Unknown at start: the last run may have stopped with messages pending.
  let behind = true;

  /**
   * Indexes one batch; true when there was nothing left to index. On the write queue. One
   * statement (an implicit transaction): the rows leave message_fts_pending oldest first, up to
   * INDEX_BATCH_MESSAGES or until INDEX_BATCH_BYTES is reached (at least one), and migration
   * 008's trigger moves each into message_fts as it goes. One statement, not a transaction of
   * several, because on an in-memory store reads share the writer's connection and queue: each
   * statement of a pass waits its turn behind them while the write queue is held.
   */
  async function indexBatch(): Promise<boolean> {
    const { changes } = await writer.run(
      `DELETE FROM message_fts_pending WHERE seq <= (
         SELECT MAX(seq) FROM (
           SELECT seq, SUM(bytes) OVER (ORDER BY seq) - bytes AS before FROM message_fts_pending ORDER BY seq LIMIT ?
         ) WHERE before < ?)`,
      [INDEX_BATCH_MESSAGES, INDEX_BATCH_BYTES],
    );
    if (changes === 0) behind = false;
    return changes === 0;
  }

  function schedule(delayMs: number): void {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = null;
      exclusive(() => (stopped ? Promise.resolve(true) : indexBatch())).then(
        (done) => {
          if (!done) schedule(0);
        },
        (err: unknown) => {
          log.warn({ err }, 'full-text indexing failed; retrying');
          behind = true;
          schedule(RETRY_DELAY_MS);
        },
      );
    }, delayMs);
    // A pending pass never keeps the process alive: the text waits in the database.
    timer.unref();
  }

  schedule(0);

  return {
    committed() {
      behind = true;
      schedule(delayMs);
    },

    catchUp() {
      // `behind` is set and cleared on the write queue; a commit still queued behind this call
      // has not been acknowledged yet, so a search need not see it.
      if (!behind) return Promise.resolve();
      return exclusive(async () => {
        while (!(await indexBatch()));
      });
    },

    async backlog() {
      return exclusive(async () => (await writer.get<{ n: number }>('SELECT COUNT(*) AS n FROM message_fts_pending'))?.n ?? 0);
    },

    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
