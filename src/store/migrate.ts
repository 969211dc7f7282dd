/**
 * Applies the versioned SQL files in ./migrations (NNN_name.sql) that the database has not seen
 * yet, and marks it as Kotak's (application_id, user_version = newest migration applied).
 */
import { readdir, readFile } from 'node:fs/promises';
import { KOTAK_APPLICATION_ID } from './database-file.js';
import type { Connection } from './sqlite-driver.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

export interface Migration {
  readonly version: number;
  readonly file: string;
}

export async function listMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  return files.map((file) => ({ version: Number.parseInt(file, 10), file }));
}

/**
 * Everything happens in one IMMEDIATE transaction, from reading which migrations were applied to
 * the mark: two starts on one file cannot both see a migration as missing, and a failing
 * migration leaves none of the pending ones half-applied. `dir` is for tests.
 */
export async function migrate(db: Connection, dir: URL = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = await listMigrations(dir);
  const ran: number[] = [];
  await db.exec('BEGIN IMMEDIATE');
  let current = '';
  try {
    await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const applied = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    for (const { version, file } of migrations) {
      if (applied.has(version)) continue;
      current = file;
      await db.exec(await readFile(new URL(file, dir), 'utf8'));
      await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [version, file, Date.now()]);
      ran.push(version);
    }
    current = '';
    const schema = Math.max(0, ...applied, ...ran);
    const mark = await db.get<{ application_id: number }>('PRAGMA application_id');
    const version = await db.get<{ user_version: number }>('PRAGMA user_version');
    // Integers only (no binding for PRAGMA values); set only when they change, to write nothing on a plain start.
    if (mark?.application_id !== KOTAK_APPLICATION_ID) await db.exec(`PRAGMA application_id = ${KOTAK_APPLICATION_ID}`);
    if (version?.user_version !== schema) await db.exec(`PRAGMA user_version = ${Math.trunc(schema)}`);
    await db.exec('COMMIT');
  } catch (err) {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw new Error(current ? `migration ${current} failed: ${(err as Error).message}` : `migrations failed: ${(err as Error).message}`, { cause: err });
  }
  return ran;
}
