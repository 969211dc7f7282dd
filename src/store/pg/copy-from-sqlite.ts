/**
 * Copies the messages of a SQLite database into a PostgreSQL one (`kotak migrate-db`, issue 20):
 * same id, mailbox, route rule, received time, envelope, raw bytes, read state, IMAP's flagged and deleted flags and tags, oldest
 * first so that the order (seq) is the same. The raw bytes are re-parsed with Kotak's own parser,
 * as intake does. Relay jobs are not copied.
 *
 * Safe to run again: a message whose id the target already holds is not inserted again (its read
 * state and tags are set to the source's once more, so a run stopped between a message's insert and
 * its tags is mended by the next). A target holding messages the source does not have is refused
 * unless `append` is set, so that two sandboxes are not merged by a typo.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { KotakError } from '../../errors.js';
import { ALL_MAILBOXES } from '../../mail/mailbox-scope.js';
import { EMPTY_QUERY } from '../../mail/search-query.js';
import type { MessageSummary, NewMessage, SpooledRaw } from '../../mail/types.js';
import { createParserPool } from '../../parse/pool.js';
import { openSqliteStore } from '../sqlite.js';
import { redactUrl } from './connection.js';
import { openPostgresStore } from './message-store.js';

/** Source messages read per page (summaries only; each message is then read alone). */
const PAGE_SIZE = 500;
/** As Kotak's own --parse-timeout default: a message that takes longer is kept raw and flagged. */
const PARSE_TIMEOUT_MS = 10_000;

export interface CopyProgress {
  /** Messages looked at so far (copied + skipped), of `total`. */
  readonly done: number;
  readonly total: number;
  readonly copied: number;
  readonly skipped: number;
  /** Raw bytes of the messages copied. */
  readonly bytes: number;
}

export interface CopySummary extends CopyProgress {
  readonly elapsedMs: number;
}

export interface CopyOptions {
  /** The SQLite database file; it must exist, and no Kotak may be running on it. */
  readonly from: string;
  /** A postgres:// or postgresql:// URL. */
  readonly to: string;
  /** Allow a target that holds messages the source does not have (the copies are added after them). */
  readonly append: boolean;
  /** Called after every `progressEvery` messages. */
  readonly progressEvery: number;
  readonly onProgress: (progress: CopyProgress) => void;
  readonly log: Logger;
  /** Source summaries read at a time (default PAGE_SIZE); tests make it small to walk many pages. */
  readonly pageSize?: number;
}

/**
 * The source's messages, oldest first (the order of seq), a page of summaries at a time: a
 * million messages are never listed in memory at once.
 */
async function* sourcePages(list: (after: string) => Promise<{ messages: MessageSummary[]; prevCursor: string | null }>): AsyncGenerator<MessageSummary[]> {
  // A page is newest first; '0' is the oldest page and each page's prevCursor the one just newer.
  let after: string | null = '0';
  while (after !== null) {
    const page: { messages: MessageSummary[]; prevCursor: string | null } = await list(after);
    if (page.messages.length > 0) yield page.messages.slice().reverse();
    after = page.prevCursor;
  }
}

/** The password of a URL, when it has one, so that no error text can carry it (a driver may quote what it was given). */
export function withoutSecret(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text.split(url).join(redactUrl(url));
  }
  const redacted = text.split(url).join(redactUrl(url));
  return password === '' ? redacted : redacted.split(password).join('***');
}

export async function copySqliteToPostgres(options: CopyOptions): Promise<CopySummary> {
  const { from, to, append, progressEvery, onProgress, log, pageSize = PAGE_SIZE } = options;
  const started = performance.now();
  // Opening the store on a missing path would make a new, empty database there.
  try {
    const file = await stat(from);
    if (!file.isFile()) throw new KotakError('invalid_config', `--from ${from}: not a database file`);
    // Kotak's store would make its tables in an empty file, as in a new one: this one only reads.
    if (file.size === 0) throw new KotakError('invalid_config', `--from ${from}: is empty, not a Kotak database`);
  } catch (err) {
    if (err instanceof KotakError) throw err;
    throw new KotakError('invalid_config', `--from ${from}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  // Kotak's own store: it takes the database's lock (a running Kotak makes it fail at once) and
  // reads every schema Kotak has had (bringing an older one up to date, as a start of Kotak would).
  const source = await openSqliteStore(from, { log });
  const parser = createParserPool({ size: 1, timeoutMs: PARSE_TIMEOUT_MS }, { log });
  let target: Awaited<ReturnType<typeof openPostgresStore>> | null = null;
  try {
    try {
      target = await openPostgresStore(to, { log, poolSize: 2 });
    } catch (err) {
      throw new KotakError('database_unusable', withoutSecret((err as Error).message, to));
    }
    const into = target;
    const rawDirectory = `${from}.raw`;
    /** One message as the target's insert takes it; null when it has gone from the source meanwhile. */
    const prepare = async (summary: MessageSummary): Promise<NewMessage | null> => {
      const detail = await source.get(ALL_MAILBOXES, summary.id);
      if (detail === null) return null;
      const spooled = await rawFileOf(rawDirectory, summary);
      const raw = spooled ? Buffer.alloc(0) : await source.getRaw(ALL_MAILBOXES, summary.id);
      if (raw === null) return null;
      // As intake: a message in a file is parsed from it, never held whole.
      const parsed = spooled ? await parser.parseFile(spooled) : await parser.parse(raw);
      return {
        id: summary.id,
        mailbox: summary.mailbox,
        routeRule: detail.route.rule,
        receivedAt: Date.parse(summary.receivedAt),
        envelope: detail.envelope,
        raw,
        ...(spooled ? { spooled } : {}),
        parsed,
      };
    };
    const pages = () => sourcePages((after) => source.list(ALL_MAILBOXES, { query: EMPTY_QUERY, limit: pageSize, after }));
    /** The page's messages that the target holds already, by id, as the target shows them. */
    const presentOf = async (page: readonly MessageSummary[]): Promise<Map<string, MessageSummary>> => {
      const found = await into.find(ALL_MAILBOXES, { query: EMPTY_QUERY, ids: page.map((m) => m.id), limit: page.length });
      return new Map(found.map((m) => [m.id, m]));
    };
    const inTarget = (await into.stats(ALL_MAILBOXES)).total;
    if (inTarget > 0 && !append) {
      // Counted a page at a time: how many of the target's messages are the source's (a resumed run).
      let ours = 0;
      for await (const page of pages()) ours += (await presentOf(page)).size;
      const others = inTarget - ours;
      if (others > 0) {
        throw new KotakError('invalid_config', `${redactUrl(to)} already holds ${others} message(s) that are not in ${from}; give --append to add the copies after them`);
      }
    }
    const total = (await source.stats(ALL_MAILBOXES)).total;
    let copied = 0;
    let skipped = 0;
    let bytes = 0;
    let done = 0;
    const finished = (): void => {
      done++;
      if (done % progressEvery === 0 && done < total) onProgress({ done, total, copied, skipped, bytes });
    };
    // One insert at a time, each committed before the next: a run that fails part way has copied
    // a prefix, so the next run adds the rest after it in the source's order. (With inserts in
    // flight, those queued behind a failed one would commit, leaving a hole that a later run
    // could fill only out of order. Reading the next message while one commits gained nothing
    // measurable: 7.2 s against 7.3 s for bench/migrate-db.ts 3000.)
    for await (const page of pages()) {
      const present = await presentOf(page);
      // IMAP's stored flags (SQLite migration 014), set where they differ from a new copy's (neither).
      const flags = await source.flagsOf(ALL_MAILBOXES, page.map((summary) => summary.id));
      const copyFlags = async (id: string): Promise<void> => {
        const entry = flags.get(id);
        if (entry) await into.setFlags(ALL_MAILBOXES, [id], { flagged: entry.flagged, deleted: entry.deleted });
      };
      for (const summary of page) {
        const there = present.get(summary.id);
        if (there) {
          skipped++;
          // Set again where they differ: a run stopped between a message's insert and these is mended by the next.
          if (there.read !== summary.read) await into.setRead(ALL_MAILBOXES, summary.id, summary.read);
          if (there.tags.join('\n') !== summary.tags.join('\n')) await into.setTags([summary.id], summary.tags);
          await copyFlags(summary.id);
        } else {
          const message = await prepare(summary);
          if (message !== null) {
            await into.insert(message);
            // A new copy is unread and untagged: only what differs costs a statement.
            if (summary.read) await into.setRead(ALL_MAILBOXES, summary.id, true);
            if (summary.tags.length > 0) await into.setTags([summary.id], summary.tags);
            const entry = flags.get(summary.id);
            if (entry?.flagged || entry?.deleted) await copyFlags(summary.id);
            copied++;
            bytes += summary.size;
          }
        }
        finished();
      }
    }
    return { done, total, copied, skipped, bytes, elapsedMs: performance.now() - started };
  } finally {
    await Promise.allSettled([source.close(), parser.close(), target?.close()]);
  }
}

/**
 * The message's raw file beside the SQLite database (large messages are kept there, named by id),
 * when there is one of the message's size: given to the target as a spool file, it is copied a part
 * at a time and parsed from the file, within the same memory bounds as intake.
 */
async function rawFileOf(directory: string, summary: MessageSummary): Promise<SpooledRaw | null> {
  const file = path.join(directory, summary.id);
  try {
    const info = await stat(file);
    return info.isFile() && info.size === summary.size ? { path: file, size: info.size } : null;
  } catch {
    return null;
  }
}
