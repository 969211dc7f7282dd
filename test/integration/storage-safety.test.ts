/**
 * The --db file: Kotak refuses paths it cannot use and databases that are not its own (in one
 * line naming the path and the cause, before writing anything), marks its own, admits one process
 * per file, and runs its migrations in one transaction.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';
import pino from 'pino';
import sqlite3 from 'sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/mail/id.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import type { NewMessage } from '../../src/mail/types.js';
import { KOTAK_APPLICATION_ID } from '../../src/store/database-file.js';
import { migrate } from '../../src/store/migrate.js';
import { openConnection } from '../../src/store/sqlite-driver.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { KOTAK_BIN, runKotak, startKotakProcess, type KotakProcess } from '../helpers/child.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kotak-db-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const serve = (db: string): string[] => ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db];

/** Runs SQL on a database file with a plain connection (another application's view of it). */
async function sql<T>(path: string, statements: string[]): Promise<T[]> {
  const db = new sqlite3.Database(path);
  const rows: T[] = [];
  for (const statement of statements) {
    rows.push(...(await new Promise<T[]>((resolve, reject) => db.all(statement, (err, r) => (err ? reject(err) : resolve(r as T[]))))));
  }
  await new Promise<void>((resolve) => db.close(() => resolve()));
  return rows;
}

async function expectRefusal(db: string, cause: string | RegExp): Promise<void> {
  const { code, stdout, stderr } = await runKotak(serve(db));
  expect(code).toBe(1);
  expect(stdout).toBe('');
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(typeof cause === 'string' ? `kotak: could not start: --db ${db}: ${cause}` : cause);
}

describe('a --db path Kotak cannot use is refused in one line naming it', () => {
  it('directory does not exist', () => expectRefusal(join(dir, 'missing', 'k.db'), 'directory does not exist'));

  it('is a directory', () => {
    mkdirSync(join(dir, 'a-directory'));
    return expectRefusal(join(dir, 'a-directory'), 'is a directory');
  });

  it('is not a SQLite database (a text file), and the file is left as it was', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'shopping list\nmilk\n');
    await expectRefusal(path, 'is not a SQLite database');
    expect(readFileSync(path, 'utf8')).toBe('shopping list\nmilk\n');
  });

  it('has a file where a directory should be', () => {
    writeFileSync(join(dir, 'plain-file'), 'x');
    return expectRefusal(join(dir, 'plain-file', 'k.db'), 'a parent of the path is a file, not a directory');
  });

  it("is another application's SQLite database: refused, not one byte written, no -wal beside it", async () => {
    const path = join(dir, 'their-app.db');
    await sql(path, ['CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)', "INSERT INTO customers (name) VALUES ('Ada')"]);
    const before = readFileSync(path);
    await expectRefusal(path, 'is not a Kotak database (it holds other tables: customers); Kotak leaves it untouched');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('their-app.db'))).toEqual(['their-app.db']);
  });

  it('carries another application_id', async () => {
    const path = join(dir, 'marked-by-others.db');
    await sql(path, [`PRAGMA application_id = ${0x6f747273}`, 'CREATE TABLE t (x)']);
    await expectRefusal(path, 'is not a Kotak database (its SQLite application_id is 0x6f747273)');
  });

  it('was written by a newer Kotak', async () => {
    const path = join(dir, 'newer.db');
    await (await openSqliteStore(path, { log })).close();
    await sql(path, ['PRAGMA user_version = 999']);
    await expectRefusal(path, /was written by a newer Kotak \(schema 999; this one knows up to \d+\)/);
  });
});

describe('permission denied (checked as an unprivileged user: root passes every permission check)', () => {
  // setpriv (util-linux) runs the real `kotak` as nobody; the source tree must be readable by it.
  const asNobody = (args: string[]) => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, KOTAK_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    return once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  };
  const shared = join(dir, 'shared');
  mkdirSync(shared, { mode: 0o755 });
  chmodSync(dir, 0o755);
  chmodSync(shared, 0o755);

  it('a directory the user may not write to', async () => {
    const { code, stderr } = await asNobody(serve(join(shared, 'k.db')));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`kotak: could not start: --db ${join(shared, 'k.db')}: permission denied (Kotak creates files in ${shared})`);
  });

  it('a database file the user may not write to', async () => {
    const open = join(dir, 'open-to-all');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const path = join(open, 'root-owned.db');
    await (await openSqliteStore(path, { log })).close();
    chmodSync(path, 0o644);
    const { code, stderr } = await asNobody(serve(path));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`kotak: could not start: --db ${path}: permission denied`);
  });
});

describe("Kotak's own databases", () => {
  it('are marked with the application_id and the schema version', async () => {
    const path = join(dir, 'fresh.db');
    await (await openSqliteStore(path, { log })).close();
    const [id, version] = await sql<{ application_id?: number; user_version?: number }>(path, ['PRAGMA application_id', 'PRAGMA user_version']);
    expect(id!.application_id).toBe(KOTAK_APPLICATION_ID);
    expect(version!.user_version).toBeGreaterThanOrEqual(5);
    // In the file's own header too, for anything that reads bytes.
    expect(readFileSync(path).readUInt32BE(68)).toBe(KOTAK_APPLICATION_ID);
  });

  it('made before the mark (same schema, no application_id) still open, keep their mail, and get marked', async () => {
    const path = join(dir, 'from-before.db');
    const old = await openSqliteStore(path, { log });
    const { id } = await old.insert(newMessage('kept across the upgrade'));
    await old.close();
    await sql(path, ['PRAGMA application_id = 0', 'PRAGMA user_version = 0']);
    const store = await openSqliteStore(path, { log });
    expect((await store.get(ALL_MAILBOXES, id))?.subject).toBe('kept across the upgrade');
    await store.close();
    const [mark] = await sql<{ application_id: number }>(path, ['PRAGMA application_id']);
    expect(mark!.application_id).toBe(KOTAK_APPLICATION_ID);
  });

  it('an empty SQLite file (0 bytes, or a database without tables) is taken as new', async () => {
    const empty = join(dir, 'touched.db');
    writeFileSync(empty, '');
    await (await openSqliteStore(empty, { log })).close();
    const blank = join(dir, 'blank.db');
    await sql(blank, ['PRAGMA user_version = 0', 'VACUUM']);
    await (await openSqliteStore(blank, { log })).close();
    for (const path of [empty, blank]) expect(readFileSync(path).readUInt32BE(68)).toBe(KOTAK_APPLICATION_ID);
  });
});

describe('one process per database file', () => {
  const send = (kotak: KotakProcess, subject: string) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port: kotak.smtpPort, secure: false, ignoreTLS: true })
      .sendMail({ from: 'a@kotak.test', to: 'b@kotak.test', subject, text: subject });
  const subjects = async (kotak: KotakProcess): Promise<string[]> =>
    ((await (await fetch(`${kotak.url}/api/messages`)).json()) as { messages: { subject: string }[] }).messages.map((m) => m.subject);

  it('a second Kotak on the same file is refused at start; the first keeps working; after a kill -9 a new one starts', async () => {
    const db = join(dir, 'shared-by-two.db');
    const first = await startKotakProcess(serve(db));
    let replacement: KotakProcess | null = null;
    try {
      await send(first, 'before the second');
      const second = await runKotak(serve(db));
      expect(second.code).toBe(1);
      expect(second.stderr.trim()).toBe(`kotak: could not start: --db ${db}: is in use by another process (Kotak runs one process per database file)`);
      await send(first, 'after the second');
      expect((await subjects(first)).sort()).toEqual(['after the second', 'before the second']);

      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      // The lock was the kernel's, so it went with the process.
      replacement = await startKotakProcess(serve(db));
      expect((await subjects(replacement)).sort()).toEqual(['after the second', 'before the second']);
      await send(replacement, 'after the restart');
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      if (replacement) {
        replacement.child.kill('SIGTERM');
        await once(replacement.child, 'exit');
      }
    }
  });

  it('database files made immutable while it runs: mail is refused with 451 and logged, the process lives, and recovers after', async () => {
    const folder = join(dir, 'immutable');
    mkdirSync(folder);
    const db = join(folder, 'k.db');
    const kotak = await startKotakProcess(serve(db));
    let stderr = '';
    let stdout = '';
    kotak.child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const logged = (text: string): Promise<void> =>
      new Promise((resolve) => {
        const look = (d?: Buffer): void => {
          if (d) stdout += d;
          if (!stdout.includes(text)) return;
          kotak.child.stdout!.off('data', look);
          resolve();
        };
        kotak.child.stdout!.on('data', look);
        look();
      });
    const storingFailed = logged('storing a message failed');
    const files = (): string[] => readdirSync(folder).filter((f) => f.startsWith('k.db')).map((f) => join(folder, f));
    try {
      await send(kotak, 'before');
      // No -shm: the WAL index is in the process's heap (a mapped -shm that turned immutable was a SIGBUS).
      expect(existsSync(`${db}-shm`)).toBe(false);
      expect(spawnSync('chattr', ['+i', ...files()]).status).toBe(0);
      await expect(send(kotak, 'while immutable')).rejects.toMatchObject({ responseCode: 451 });
      expect(kotak.child.exitCode).toBeNull();
      await storingFailed;
      expect(spawnSync('chattr', ['-i', ...files()]).status).toBe(0);
      await send(kotak, 'after');
      expect((await subjects(kotak)).sort()).toEqual(['after', 'before']);
    } finally {
      spawnSync('chattr', ['-i', ...files()]);
      kotak.child.kill('SIGTERM');
      const [code, signal] = await once(kotak.child, 'exit');
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    }
  });
});

describe('migrations', () => {
  const migrations = (files: Record<string, string>): URL => {
    const folder = mkdtempSync(join(dir, 'migrations-'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(folder, name), body);
    return pathToFileURL(`${folder}/`);
  };

  it('a failing migration leaves none of the pending ones applied', async () => {
    const path = join(dir, 'half.db');
    const folder = migrations({ '001_good.sql': 'CREATE TABLE good (x);', '002_bad.sql': 'CREATE TABLE also_good (y); SELECT * FROM no_such_table;' });
    const db = await openConnection(path);
    await expect(migrate(db, folder)).rejects.toThrow(/migration 002_bad.sql failed/);
    const tables = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    const [mark] = await db.all<{ application_id: number }>('PRAGMA application_id');
    await db.close();
    expect(tables).toEqual([]);
    expect(mark!.application_id).toBe(0);
  });

  it('two connections migrating one file at once: one applies each migration, the other finds it done', async () => {
    const path = join(dir, 'race.db');
    const folder = migrations({ '001_a.sql': 'CREATE TABLE a (x);', '002_b.sql': 'CREATE TABLE b (x);', '003_c.sql': 'CREATE TABLE c (x);' });
    const [one, two] = await Promise.all([openConnection(path), openConnection(path)]);
    const [ranByOne, ranByTwo] = await Promise.all([migrate(one, folder), migrate(two, folder)]);
    expect([...ranByOne, ...ranByTwo].sort()).toEqual([1, 2, 3]);
    expect(await one.all('SELECT version FROM schema_migrations ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    await Promise.all([one.close(), two.close()]);
  });
});

function newMessage(subject: string): NewMessage {
  return {
    id: newMessageId(),
    mailbox: 'default',
    receivedAt: Date.now(),
    envelope: { mailFrom: 'a@x.test', rcptTo: ['b@x.test'], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`, 'latin1'),
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: 'a@x.test' }, to: [{ name: '', address: 'b@x.test' }], cc: [], bcc: [], replyTo: [],
        subject, messageId: null, date: null, text: 'body', html: null, htmlText: null, headers: [], attachments: [], snippet: 'body',
      },
    },
  };
}
