/**
 * `kotak migrate-db` (issue 20): a SQLite sandbox filled by a real Kotak over SMTP (two mailboxes,
 * read and tagged messages, a large one kept in a raw file, one kept unparsed) is copied into a
 * real PostgreSQL; Kotak started on that database then shows through its HTTP API every message as
 * the SQLite Kotak showed it: details, raw bytes, read state, tags, mailbox and order. A second run
 * copies nothing twice; the refusals (in use, missing file, bad URL, foreign target) are one line
 * each, and the URL's password is never printed.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { copySqliteToPostgres, type CopyProgress } from '../../src/store/pg/copy-from-sqlite.js';
import { openPostgresStore } from '../../src/store/pg/message-store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { runKotak, startKotakProcess, type KotakProcess } from '../helpers/child.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { queuedId } from '../helpers/smtp-client.js';

const PASSWORD = 'n0t-f0r-Logs';
let server: RunningPostgres;
let dir: string;
const running: KotakProcess[] = [];

/** The harness trusts every loopback login: a password in the URL is accepted and must never be shown. */
const withPassword = (url: string): string => url.replace('postgres://kotak@', `postgres://kotak:${PASSWORD}@`);

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'kotak-migrate-db-'));
});

afterAll(async () => {
  for (const k of running.splice(0)) await stop(k);
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function start(db: string): Promise<KotakProcess> {
  const k = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db, '--mailbox-route', '*@billing.test=billing']);
  running.push(k);
  return k;
}

async function stop(k: KotakProcess): Promise<void> {
  const at = running.indexOf(k);
  if (at >= 0) running.splice(at, 1);
  if (k.child.exitCode !== null || k.child.signalCode !== null) return;
  k.child.kill('SIGTERM');
  await once(k.child, 'exit');
}

async function api(k: KotakProcess, method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`http://127.0.0.1:${k.httpPort}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function send(k: KotakProcess, mail: SendMailOptions): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: k.smtpPort, ignoreTLS: true });
  try {
    return queuedId((await transport.sendMail(mail)).response);
  } finally {
    transport.close();
  }
}

/** MIME parts nested past the default --max-mime-depth (50): kept raw and flagged, whatever the parser. */
function nestedTooDeep(levels: number): Buffer {
  let body = 'innermost\r\n';
  for (let i = levels; i > 0; i--) body = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  return Buffer.from(`From: deep@example.test\r\nTo: a@example.test\r\nSubject: too deep\r\n${body}`);
}

interface Snapshot {
  /** Ids newest first, as GET /api/messages lists them. */
  readonly order: string[];
  readonly details: Map<string, unknown>;
  readonly raws: Map<string, Buffer>;
}

async function snapshot(k: KotakProcess): Promise<Snapshot> {
  const page = (await (await api(k, 'GET', '/api/messages?limit=500')).json()) as { messages: { id: string }[] };
  const order = page.messages.map((m) => m.id);
  const details = new Map<string, unknown>();
  const raws = new Map<string, Buffer>();
  for (const id of order) {
    details.set(id, await (await api(k, 'GET', `/api/messages/${id}`)).json());
    raws.set(id, Buffer.from(await (await api(k, 'GET', `/api/messages/${id}/raw`)).arrayBuffer()));
  }
  return { order, details, raws };
}

/** Every line of a run's output, without the password of the URL it was given. */
function expectNoPassword(run: { stdout: string; stderr: string }): void {
  expect(run.stdout + run.stderr).not.toContain(PASSWORD);
}

describe('kotak migrate-db', () => {
  it('copies a SQLite sandbox into PostgreSQL as it was, resumes without copying twice, and says clearly what it refuses', async () => {
    const db = join(dir, 'kotak.db');
    const source = await start(db);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const to = i % 2 === 0 ? `user${i}@example.test` : `invoices${i}@billing.test`;
      ids.push(await send(source, { from: 'app@example.test', to, subject: `message ${i}`, text: `body ${i} ünïcödé`, html: `<p>body <b>${i}</b></p>` }));
    }
    // ≥ 300 KB: kept in a raw file beside the database.
    const large = Buffer.alloc(400 * 1024, 'attachment bytes ');
    ids.push(await send(source, { from: 'app@example.test', to: 'big@billing.test', subject: 'large', text: 'see attached', attachments: [{ filename: 'big.bin', content: large }] }));
    ids.push(await send(source, { envelope: { from: 'deep@example.test', to: ['a@example.test'] }, raw: nestedTooDeep(60) }));
    await api(source, 'PATCH', `/api/messages/${ids[1]}`, { read: true });
    await api(source, 'PATCH', `/api/messages/${ids[8]}`, { read: true });
    await api(source, 'PUT', `/api/messages/${ids[2]}/tags`, { tags: ['Signup', 'alpha'] });
    await api(source, 'PUT', `/api/messages/${ids[8]}/tags`, { tags: ['large'] });
    const before = await snapshot(source);
    expect(before.order).toEqual([...ids].reverse());
    expect((before.details.get(ids[9]!) as { parseError?: string }).parseError).toMatch(/nested more than 50 deep/);
    expect(await readdir(`${db}.raw`)).toContain(ids[8]);

    const target = withPassword(await server.createDatabase('migrated'));
    // The running Kotak holds the database's lock.
    const inUse = await runKotak(['migrate-db', '--from', db, '--to', target]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/kotak migrate-db: .*kotak\.db: is in use by another process/);
    expectNoPassword(inUse);
    await stop(source);
    // IMAP's stored flags (no route sets them): straight into the stopped sandbox's database.
    {
      const sqlite = await openSqliteStore(db, { log: pino({ level: 'silent' }) });
      await sqlite.setFlags(ALL_MAILBOXES, [ids[3]!], { flagged: true });
      await sqlite.setFlags(ALL_MAILBOXES, [ids[8]!], { flagged: true, deleted: true });
      await sqlite.close();
    }

    // In-process, three summaries a page: the walk over pages keeps the order (seq) of the source.
    const paged = await server.createDatabase('paged');
    const progress: CopyProgress[] = [];
    const summary = await copySqliteToPostgres({ from: db, to: paged, append: false, progressEvery: 3, onProgress: (p) => progress.push(p), log: pino({ level: 'silent' }), pageSize: 3 });
    expect(summary).toMatchObject({ done: 10, total: 10, copied: 10, skipped: 0 });
    expect(progress.map((p) => p.done)).toEqual([3, 6, 9]);
    const client = new pg.Client({ connectionString: paged });
    await client.connect();
    try {
      expect((await client.query<{ id: string }>('SELECT id FROM messages ORDER BY seq')).rows.map((r) => r.id)).toEqual(ids);
    } finally {
      await client.end();
    }

    // A run that fails part way (the target refuses one message) has copied a prefix at most;
    // the next run copies the rest after it, so the order is still the source's.
    const broken = withPassword(await server.createDatabase('interrupted'));
    await (await openPostgresStore(broken, { log: pino({ level: 'silent' }) })).close();
    const admin = new pg.Client({ connectionString: broken });
    await admin.connect();
    try {
      await admin.query(`CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$`);
      await admin.query(`CREATE TRIGGER refuse_for_test BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.id = '${ids[6]}') EXECUTE FUNCTION refuse_for_test()`);
      const failed = await runKotak(['migrate-db', '--from', db, '--to', broken]);
      expect(failed.code).toBe(1);
      expect(failed.stderr.split('\n').filter((line) => line.startsWith('kotak migrate-db:')).at(-1)).toMatch(/refused for the test/);
      expectNoPassword(failed);
      const prefix = (await admin.query<{ id: string }>('SELECT id FROM messages ORDER BY seq')).rows.map((r) => r.id);
      expect(ids.slice(0, prefix.length)).toEqual(prefix);
      expect(prefix).not.toContain(ids[6]);
      await admin.query('DROP TRIGGER refuse_for_test ON messages');
      const rest = await runKotak(['migrate-db', '--from', db, '--to', broken]);
      expect(rest.code, rest.stderr).toBe(0);
      expect(rest.stdout).toContain(`done: ${10 - prefix.length} copied, ${prefix.length} skipped`);
      expect((await admin.query<{ id: string }>('SELECT id FROM messages ORDER BY seq')).rows.map((r) => r.id)).toEqual(ids);
    } finally {
      await admin.end();
    }

    const first = await runKotak(['migrate-db', '--from', db, '--to', target, '--progress', '4']);
    expectNoPassword(first);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('kotak migrate-db: 4 of 10 messages (4 copied, 0 skipped');
    expect(first.stderr).toContain('kotak migrate-db: 8 of 10 messages (8 copied, 0 skipped');
    expect(first.stdout).toMatch(/^kotak migrate-db: done: 10 copied, 0 skipped \(already there\), \d+ bytes, [\d.]+ s; relay jobs are not copied\n$/);

    // A run stopped part way has copied the oldest messages: the next copies the rest, after them,
    // and sets the read state and tags of those already there to the source's once more.
    const interrupted = await start(target);
    for (const id of ids.slice(7)) await api(interrupted, 'DELETE', `/api/messages/${id}`);
    await api(interrupted, 'PATCH', `/api/messages/${ids[1]}`, { read: false });
    await stop(interrupted);
    const unflag = new pg.Client({ connectionString: target });
    await unflag.connect();
    await unflag.query('UPDATE messages SET flagged = false WHERE id = $1', [ids[3]]);
    await unflag.end();
    const resumed = await runKotak(['migrate-db', '--from', db, '--to', target]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/done: 3 copied, 7 skipped/);
    const again = await runKotak(['migrate-db', '--from', db, '--to', target]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/done: 0 copied, 10 skipped/);

    const onPostgres = await start(target);
    const after = await snapshot(onPostgres);
    expect(after.order).toEqual(before.order);
    for (const id of ids) {
      expect(after.details.get(id), id).toEqual(before.details.get(id));
      expect(after.raws.get(id)!.equals(before.raws.get(id)!), `raw bytes of ${id}`).toBe(true);
    }
    const migrated = await openPostgresStore(target, { log: pino({ level: 'silent' }) });
    const flags = await migrated.flagsOf(ALL_MAILBOXES, ids);
    await migrated.close();
    expect(ids.filter((id) => flags.get(id)!.flagged)).toEqual([ids[3], ids[8]]);
    expect(ids.filter((id) => flags.get(id)!.deleted)).toEqual([ids[8]]);
    const counts = (await (await api(onPostgres, 'GET', '/api/mailboxes')).json()) as unknown;
    expect(JSON.stringify(counts)).toContain('billing');
    await stop(onPostgres);

    // Another sandbox into the same target: refused, unless --append.
    const otherDb = join(dir, 'other.db');
    const other = await start(otherDb);
    const otherId = await send(other, { from: 'app@example.test', to: 'x@example.test', subject: 'other sandbox', text: 'x' });
    await stop(other);
    const refused = await runKotak(['migrate-db', '--from', otherDb, '--to', target]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already holds 10 message\(s\) that are not in .*other\.db; give --append/);
    expectNoPassword(refused);
    const appended = await runKotak(['migrate-db', '--from', otherDb, '--to', target, '--append']);
    expect(appended.code, appended.stderr).toBe(0);
    expect(appended.stdout).toMatch(/done: 1 copied, 0 skipped/);
    const onPostgresAgain = await start(target);
    const newest = (await (await api(onPostgresAgain, 'GET', '/api/messages?limit=1')).json()) as { messages: { id: string }[]; total: number };
    expect(newest.total).toBe(11);
    expect(newest.messages[0]!.id).toBe(otherId);
    await stop(onPostgresAgain);
  });

  it('refuses a missing file, a URL that is not PostgreSQL and an unreachable server, each in one line and with exit 2 or 1', async () => {
    const missing = join(dir, 'missing.db');
    const noFile = await runKotak(['migrate-db', '--from', missing, '--to', withPassword(server.url)]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toBe(`kotak migrate-db: copying ${missing} into ${server.url.replace('kotak@', 'kotak:***@')}\nkotak migrate-db: --from ${missing}: no such file\n`);
    expect(existsSync(missing)).toBe(false);

    const zeroBytes = join(dir, 'zero.db');
    await writeFile(zeroBytes, '');
    const emptyFile = await runKotak(['migrate-db', '--from', zeroBytes, '--to', withPassword(server.url)]);
    expect(emptyFile.code).toBe(2);
    expect(emptyFile.stderr).toContain(`kotak migrate-db: --from ${zeroBytes}: is empty, not a Kotak database\n`);
    expect((await stat(zeroBytes)).size).toBe(0);

    const notPg = await runKotak(['migrate-db', '--from', missing, '--to', `mysql://root:${PASSWORD}@127.0.0.1/db`]);
    expect(notPg.code).toBe(2);
    expect(notPg.stderr).toBe('kotak migrate-db: --to must be a postgres:// or postgresql:// URL, not mysql://root:***@127.0.0.1/db\n');

    const usage = await runKotak(['migrate-db', '--to', withPassword(server.url)]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('kotak migrate-db: --from PATH is needed (the SQLite database file)\n');

    // A fresh SQLite sandbox (made by Kotak, empty), and a port nothing listens on.
    const empty = join(dir, 'empty.db');
    await stop(await start(empty));
    const unreachable = await runKotak(['migrate-db', '--from', empty, '--to', `postgres://kotak:${PASSWORD}@127.0.0.1:1/kotak`]);
    expect(unreachable.code).toBe(1);
    expectNoPassword(unreachable);
    const lines = unreachable.stderr.trimEnd().split('\n').filter((line) => line.startsWith('kotak migrate-db:'));
    expect(lines.at(-1)).toMatch(/^kotak migrate-db: PostgreSQL at postgres:\/\/kotak:\*\*\*@127\.0\.0\.1:1\/kotak could not be prepared: .*ECONNREFUSED/);
  });
});
