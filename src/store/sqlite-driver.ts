/** Promise wrappers over the npm `sqlite3` driver; the only file that imports it. */
import sqlite3 from 'sqlite3';

export type SqlParams = readonly unknown[];

export interface Connection {
  run(sql: string, params?: SqlParams): Promise<{ changes: number }>;
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

function wrap(db: sqlite3.Database): Connection {
  return {
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
    close: () => new Promise((resolve, reject) => db.close((err) => (err ? reject(err) : resolve()))),
  };
}
