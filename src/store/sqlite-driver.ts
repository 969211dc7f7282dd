/** Promise wrappers over the npm `sqlite3` driver; the only file that imports it. */
import sqlite3 from 'sqlite3';

export type SqlParams = readonly unknown[];

export interface Connection {
  run(sql: string, params?: SqlParams): Promise<{ changes: number }>;
  /** Like run, with the statement prepared once and kept: for hot statements only. */
  runPrepared(sql: string, params: SqlParams): Promise<{ changes: number }>;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  exec(sql: string): Promise<void>;
  /** The time a statement waits on another connection's lock; 0 answers SQLITE_BUSY at once. */
  setBusyTimeout(ms: number): void;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly readOnly?: boolean;
  /**
   * Open through SQLite's `unix-excl` VFS: the first connection of this process takes a POSIX
   * lock on the whole database file and keeps it until its last connection closes, so no other
   * process can read or write it while we run (the kernel drops the lock when the process dies,
   * kill -9 included); connections of this process share it. The WAL index lives in this
   * process's heap instead of an mmap'ed `-shm` file, so a `-shm` that stops being writable
   * (made immutable, on a full tmpfs) can no longer end the process with SIGBUS: writes fail with
   * an error instead. Not for `:memory:`.
   */
  readonly exclusive?: boolean;
  /** How long a statement waits on another connection's lock before SQLITE_BUSY (default 10 s). */
  readonly busyTimeoutMs?: number;
}

/** A file path as an SQLite URI (the characters URIs reserve escaped), choosing the VFS. */
function uriFor(filename: string, vfs: string): string {
  return `file:${filename.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}?vfs=${vfs}`;
}

/** `unix-excl` is part of SQLite's unix VFS (Linux, macOS, BSDs); Windows has no counterpart. */
const EXCLUSIVE_VFS_AVAILABLE = process.platform !== 'win32';

export function openConnection(filename: string, options: OpenOptions = {}): Promise<Connection> {
  const { readOnly = false, busyTimeoutMs = 10_000 } = options;
  const exclusive = (options.exclusive ?? false) && EXCLUSIVE_VFS_AVAILABLE;
  return new Promise((resolve, reject) => {
    let mode = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    if (exclusive) mode |= sqlite3.OPEN_URI;
    const db: sqlite3.Database = new sqlite3.Database(exclusive ? uriFor(filename, 'unix-excl') : filename, mode, (err) => {
      if (err) return reject(err);
      db.configure('busyTimeout', busyTimeoutMs);
      resolve(wrap(db));
    });
  });
}

/** Prepared statements kept per connection; the oldest is finalised past this many. */
const MAX_PREPARED = 64;

function wrap(db: sqlite3.Database): Connection {
  const prepared = new Map<string, sqlite3.Statement>();
  const statement = (sql: string): sqlite3.Statement => {
    let stmt = prepared.get(sql);
    if (stmt) return stmt;
    if (prepared.size >= MAX_PREPARED) {
      const [oldestSql, oldest] = prepared.entries().next().value as [string, sqlite3.Statement];
      prepared.delete(oldestSql);
      oldest.finalize();
    }
    stmt = db.prepare(sql);
    prepared.set(sql, stmt);
    return stmt;
  };
  return {
    runPrepared: (sql, params) =>
      new Promise((resolve, reject) =>
        statement(sql).run(params, function (this: sqlite3.RunResult, err: Error | null) {
          if (err) reject(err);
          else resolve({ changes: this.changes });
        }),
      ),
    run: (sql, params = []) =>
      new Promise((resolve, reject) =>
        db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
          if (err) reject(err);
          else resolve({ changes: this.changes });
        }),
      ),
    all: <T>(sql: string, params: SqlParams = []) =>
      new Promise<T[]>((resolve, reject) => db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[])))),
    get: <T>(sql: string, params: SqlParams = []) =>
      new Promise<T | undefined>((resolve, reject) => db.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as T | undefined)))),
    exec: (sql) => new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve()))),
    setBusyTimeout: (ms) => db.configure('busyTimeout', ms),
    close: () => {
      for (const stmt of prepared.values()) stmt.finalize();
      prepared.clear();
      return new Promise((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/**
 * Runs `work` in a write transaction taken at once (BEGIN IMMEDIATE: no lock upgrade to fail
 * halfway), committed when it resolves and rolled back when it throws. The caller holds the
 * store's write queue, so no other statement of this connection runs in between.
 */
export async function inImmediateTransaction<T>(writer: Connection, work: () => Promise<T>): Promise<T> {
  await writer.exec('BEGIN IMMEDIATE');
  try {
    const result = await work();
    await writer.exec('COMMIT');
    return result;
  } catch (err) {
    await writer.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
