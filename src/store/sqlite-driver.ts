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
  close(): Promise<void>;
}

export function openConnection(filename: string, readOnly = false): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const mode = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    const db: sqlite3.Database = new sqlite3.Database(filename, mode, (err) => {
      if (err) return reject(err);
      db.configure('busyTimeout', 10_000);
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
    close: () => {
      for (const stmt of prepared.values()) stmt.finalize();
      prepared.clear();
      return new Promise((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
