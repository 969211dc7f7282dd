/**
 * Applies PostgreSQL migration files (src/store/pg/migrations) to a test database directly, for
 * the many-nodes tests written before the migration runner (src/store/pg/migrate.ts) was on
 * their branch. At merge, callers can move to `migratePostgres(pool, log)`.
 */
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';

const MIGRATIONS = new URL('../../src/store/pg/migrations/', import.meta.url);

export async function applyPgMigrations(pool: Pool, files: readonly string[]): Promise<void> {
  for (const file of files) await pool.query(readFileSync(new URL(file, MIGRATIONS), 'utf8'));
}
