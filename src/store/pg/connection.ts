/**
 * The PostgreSQL connection pool of a store (issue 20), opened from a `postgres://` or
 * `postgresql://` URL. A URL may hold a password: only `redactUrl` output ever reaches a log line
 * or an error message.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { isPostgresUrl } from '../../config.js';
import { KotakError } from '../../errors.js';

/** A connection not made in this time fails (the pool's wait for a free one included). */
const CONNECT_TIMEOUT_MS = 10_000;
/** A query not answered in this time fails (each statement of a large message is a 1 MiB part). */
const QUERY_TIMEOUT_MS = 60_000;

/** How many connections a node keeps at most: the writer's batches, reads beside them, and a migration. */
const DEFAULT_POOL_SIZE = 10;

/** bigint (int8) as a JavaScript number: seqs, sizes and epoch-ms times stay far below 2^53. */
const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** The URL with its password (if any) replaced by `***`, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL at all: nothing of it can be shown safely.
    return '(an unreadable database URL)';
  }
}

export interface PoolOptions {
  readonly log: Logger;
  readonly max?: number;
}

/** A pool for the URL; connects lazily (the first query or `connect()` opens a connection). */
export function openPool(url: string, { log, max = DEFAULT_POOL_SIZE }: PoolOptions): pg.Pool {
  if (!isPostgresUrl(url)) throw new KotakError('invalid_config', `${redactUrl(url)} is not a postgres:// or postgresql:// URL`);
  try {
    new URL(url);
  } catch (err) {
    throw new KotakError('invalid_config', `the database URL ${redactUrl(url)} cannot be read as a URL`, { cause: err });
  }
  // An insert is acknowledged (SMTP 250) once its COMMIT returns: that must mean durable, whatever
  // the server's default. A startup option of every connection, after any the URL gives.
  const options = [new URL(url).searchParams.get('options'), '-c synchronous_commit=on'].filter(Boolean).join(' ');
  const pool = new pg.Pool({
    connectionString: url, max, types, options,
    // Nothing waits for the database for ever: a server that went away (or a link that silently
    // drops everything) fails the insert, and SMTP answers 451, instead of holding the client.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection that breaks (a server restart) is dropped by the pool; the next query opens
  // another. Without a listener the error would end the process.
  pool.on('error', (err) => log.warn({ err: { message: err.message, code: (err as { code?: string }).code }, db: redactUrl(url) }, 'an idle PostgreSQL connection failed'));
  // A connection held out of the pool between queries (a transaction's, the listening session,
  // the periodic work's lock) that breaks emits 'error' on its client, which the pool does not
  // listen to then: unheard, it ended the process when the server stopped. Its next query fails
  // (and its holder gives it back as broken); this only keeps the process alive and says so.
  pool.on('connect', (client) => {
    client.on('error', (err) => log.warn({ err: { message: err.message, code: (err as { code?: string }).code }, db: redactUrl(url) }, 'a PostgreSQL connection in use failed'));
  });
  return pool;
}
