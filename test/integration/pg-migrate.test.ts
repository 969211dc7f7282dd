/**
 * The PostgreSQL schema is applied under an advisory lock: ten nodes starting at once against one
 * fresh database apply each migration exactly once, and a later start applies nothing. The URL's
 * password never reaches a log line or an error message.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import { openPool, redactUrl } from '../../src/store/pg/connection.js';
import { listPgMigrations, migratePostgres } from '../../src/store/pg/migrate.js';
import { openPostgresStore } from '../../src/store/pg/message-store.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });

describe('PostgreSQL migrations', () => {
  let server: RunningPostgres;
  const directories: string[] = [];
  /** A directory of migrations for one test, removed after the file. */
  const migrationsDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kotak-pgmig-'));
    directories.push(dir);
    return dir;
  };
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });

  it('ten concurrent runs on one fresh database apply each migration once; a second run applies nothing', async () => {
    const url = await server.createDatabase('ten_nodes');
    // A second migration beside the real one, slow enough that the runs overlap while it holds the lock.
    const dir = migrationsDir();
    const real = await listPgMigrations();
    for (const m of real) writeFileSync(join(dir, `${String(m.version).padStart(3, '0')}_${m.name}.sql`), await (await import('node:fs/promises')).readFile(m.file, 'utf8'));
    writeFileSync(join(dir, '900_counter.sql'), 'SELECT pg_sleep(0.2); CREATE TABLE applied_once (n int); INSERT INTO applied_once VALUES (1);');
    const directory = pathToFileURL(`${dir}/`);

    const pools = Array.from({ length: 10 }, () => openPool(url, { log, max: 2 }));
    try {
      const applied = await Promise.all(pools.map((pool) => migratePostgres(pool, log, directory)));
      const versions = applied.flat().sort((a, b) => a - b);
      expect(versions).toEqual([...real.map((m) => m.version), 900]);
      expect(applied.filter((list) => list.length > 0)).toHaveLength(1);

      const check = pools[0]!;
      expect((await check.query('SELECT COUNT(*)::int AS n FROM applied_once')).rows).toEqual([{ n: 1 }]);
      expect((await check.query('SELECT version FROM kotak_schema_migrations ORDER BY version')).rows.map((r: { version: number }) => r.version)).toEqual(versions);
      expect(await migratePostgres(check, log, directory)).toEqual([]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('a failing migration is rolled back whole and recorded as not applied', async () => {
    const url = await server.createDatabase('failing');
    const dir = migrationsDir();
    writeFileSync(join(dir, '001_half.sql'), 'CREATE TABLE half (n int); SELECT no_such_function();');
    const pool = openPool(url, { log });
    try {
      await expect(migratePostgres(pool, log, pathToFileURL(`${dir}/`))).rejects.toThrow(/no_such_function/);
      expect((await pool.query("SELECT to_regclass('half') AS t")).rows).toEqual([{ t: null }]);
      expect((await pool.query('SELECT COUNT(*)::int AS n FROM kotak_schema_migrations')).rows).toEqual([{ n: 0 }]);
    } finally {
      await pool.end();
    }
  });

  it('commits synchronously even where the server default is not to', async () => {
    const url = await server.createDatabase('async_default');
    const admin = openPool(url, { log, max: 1 });
    await admin.query('ALTER DATABASE async_default SET synchronous_commit = off');
    await admin.end();
    const pool = openPool(url, { log });
    try {
      expect((await pool.query('SHOW synchronous_commit')).rows).toEqual([{ synchronous_commit: 'on' }]);
    } finally {
      await pool.end();
    }
  });

  it('keeps the password of a database URL out of logs and errors', async () => {
    expect(redactUrl('postgres://kotak:s3cret@db.example:5432/kotak')).toBe('postgres://kotak:***@db.example:5432/kotak');
    expect(redactUrl('postgresql://kotak@127.0.0.1/kotak')).toBe('postgresql://kotak@127.0.0.1/kotak');
    expect(redactUrl('not a url s3cret')).not.toContain('s3cret');
    expect(() => openPool('mysql://u:s3cret@h/db', { log })).toThrow(KotakError);
    expect(() => openPool('mysql://u:s3cret@h/db', { log })).not.toThrow(/s3cret/);

    // Trust authentication lets any password in: the store opens and logs its URL redacted; a
    // database that does not exist fails with an error that names the URL without it.
    const lines: string[] = [];
    const captured = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const good = (await server.createDatabase('with_password')).replace('kotak@', 'kotak:s3cret-word@');
    const store = await openPostgresStore(good, { log: captured });
    await store.close();
    const missing = server.urlOf('no_such_database').replace('kotak@', 'kotak:s3cret-word@');
    const failure = await openPostgresStore(missing, { log: captured }).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(failure).toBeInstanceOf(KotakError);
    expect(failure!.message).toContain('kotak:***@');
    expect(failure!.message).not.toContain('s3cret-word');
    expect(lines.join('\n')).not.toContain('s3cret-word');
    expect(lines.join('\n')).toContain('***');
  });
});
