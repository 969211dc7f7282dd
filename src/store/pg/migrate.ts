/**
 * Applies src/store/pg/migrations/NNN_name.sql in order (forward-only), each in its own
 * transaction and recorded in `kotak_schema_migrations`. Every node runs this at start: a session
 * advisory lock on one connection makes the nodes take turns, so ten nodes starting at once
 * apply each migration once (the others wait, then find nothing left to do).
 */
import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { Logger } from 'pino';

/** The advisory lock key of schema changes: "kotakmig" as 8 ASCII bytes, a fixed 64-bit number. */
export const MIGRATION_LOCK_KEY = '7741534246236154215';

const MIGRATIONS = new URL('./migrations/', import.meta.url);

export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly file: URL;
}

export async function listPgMigrations(directory: URL = MIGRATIONS): Promise<PgMigration[]> {
  const files = (await readdir(directory)).filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name)).sort();
  return files.map((name) => ({ version: Number(name.slice(0, 3)), name: name.slice(4, -4), file: new URL(name, directory) }));
}

/** Returns the versions this call applied (none when another node or an earlier start did). */
export async function migratePostgres(pool: pg.Pool, log: Logger, directory: URL = MIGRATIONS): Promise<number[]> {
  const migrations = await listPgMigrations(directory);
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS kotak_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM kotak_schema_migrations')).rows.map((r) => r.version));
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        const sql = await readFile(migration.file, 'utf8');
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query('INSERT INTO kotak_schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        applied.push(migration.version);
        log.info({ version: migration.version, name: migration.name }, 'applied a PostgreSQL migration');
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
  return applied;
}
