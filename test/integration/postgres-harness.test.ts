/**
 * The PostgreSQL that the issue-20 tests run against is a real server this harness starts itself:
 * it answers on its URL, survives a stop and start with its data, and is gone after stop().
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

describe('the test harness PostgreSQL', () => {
  let server: RunningPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers on its loopback URL, keeps data across a stop and start, and creates databases', async () => {
    expect(server.url).toMatch(/^postgres:\/\/kotak@127\.0\.0\.1:\d+\/kotak$/);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('CREATE TABLE kept (n int)');
    await client.query('INSERT INTO kept VALUES (42)');
    await client.end();

    await server.pause();
    const refused = new pg.Client({ connectionString: server.url });
    await expect(refused.connect()).rejects.toThrow();
    await server.resume();

    const again = new pg.Client({ connectionString: server.url });
    await again.connect();
    expect((await again.query('SELECT n FROM kept')).rows).toEqual([{ n: 42 }]);
    expect((await again.query("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'pg_trgm'")).rows).toEqual([{ n: 1 }]);
    await again.end();

    const other = await server.createDatabase('second_one');
    const third = new pg.Client({ connectionString: other });
    await third.connect();
    expect((await third.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'second_one' }]);
    await third.end();
  });

  it('removes its directory when stopped, and the server with it', async () => {
    const another = await startPostgres();
    expect(existsSync(another.directory)).toBe(true);
    await another.stop();
    expect(existsSync(another.directory)).toBe(false);
    await expect(new pg.Client({ connectionString: another.url }).connect()).rejects.toThrow();
  });
});
