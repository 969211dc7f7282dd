/**
 * The IMAP folder index (issue 21) at scale: fills a store with --messages messages in one mailbox
 * (and a tenth as many in another, interleaved), then prints p50/p99 of what an IMAP session asks
 * of the store: SELECT's window (the newest 10,000, `folderIndex`), a resync (those above a UID
 * near the top), the flags of 10,000 ids (`flagsOf`), a STORE on 1,000 (`setFlags`, set and
 * cleared). For SQLite it also times migration 014 on the filled database: the store is filled at
 * schema 013 and then opened with every migration.
 *
 *   npx tsx bench/folder-index.ts                      # SQLite, 100,000 messages
 *   npx tsx bench/folder-index.ts --pg                 # PostgreSQL (a server the test harness starts)
 *   npx tsx bench/folder-index.ts --messages 1000000 --runs 5
 *   npx tsx bench/folder-index.ts --keep /tmp/f100k   # SQLite: keep the database; run again to measure it without a refill
 *
 * Messages are built here (1–2 KB, no MIME parsing) and inserted in batches of 500. It measures and
 * prints; it asserts nothing.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { newMessageId } from '../src/mail/id.js';
import { ALL_MAILBOXES, onlyMailboxes } from '../src/mail/mailbox-scope.js';
import type { NewMessage } from '../src/mail/types.js';
import { openPostgresStore } from '../src/store/pg/message-store.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { MessageStore } from '../src/store/types.js';
import { startPostgres, type RunningPostgres } from '../test/helpers/postgres.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '100000' }, runs: { type: 'string', default: '20' }, pg: { type: 'boolean', default: false }, keep: { type: 'string' } },
});
const TOTAL = Number(values.messages);
const RUNS = Number(values.runs);
const WINDOW = 10_000;
const log = pino({ level: 'silent' });
const START = Date.parse('2026-11-01T00:00:00Z');

function message(n: number): NewMessage {
  const mailbox = n % 11 === 10 ? 'other' : 'inbox';
  const subject = `Update #${n}`;
  const text = `Message ${n}. ${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(10 + (n % 20))}`;
  const raw = Buffer.from(`From: sender${n % 30}@shop.example\r\nTo: user@team.example\r\nSubject: ${subject}\r\nMessage-ID: <m${n}@bench.example>\r\n\r\n${text}\r\n`);
  const receivedAt = START + n * 1000;
  return {
    id: newMessageId(receivedAt),
    mailbox,
    receivedAt,
    envelope: { mailFrom: 'sender@shop.example', rcptTo: ['user@team.example'], clientAddress: '127.0.0.1', heloName: 'bench', user: null, tls: false },
    raw,
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: `sender${n % 30}@shop.example` }, to: [{ name: '', address: 'user@team.example' }], cc: [], bcc: [], replyTo: [], subject,
        messageId: `<m${n}@bench.example>`, date: null, text, html: null, htmlText: null, headers: [], attachments: [], snippet: text.slice(0, 200),
      },
    },
  };
}

async function fill(store: MessageStore, total: number): Promise<void> {
  for (let n = 0; n < total; n += 500) {
    await Promise.all(Array.from({ length: Math.min(500, total - n) }, (_, i) => store.insert(message(n + i))));
  }
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function time(label: string, work: () => Promise<unknown>): Promise<void> {
  await work(); // warm
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(58)} p50 ${percentile(times, 0.5).toFixed(1).padStart(7)} ms   p99 ${percentile(times, 0.99).toFixed(1).padStart(7)} ms`);
}

async function measure(store: MessageStore): Promise<void> {
  const inbox = onlyMailboxes(['inbox']);
  const window = await store.folderIndex(inbox, 'inbox', { limit: WINDOW });
  console.log(`inbox holds ${(await store.mailboxCounts(ALL_MAILBOXES)).find((m) => m.name === 'inbox')?.total} messages; window ${window.length}`);
  await time(`folderIndex: the newest ${WINDOW.toLocaleString('en')} (SELECT)`, () => store.folderIndex(inbox, 'inbox', { limit: WINDOW }));
  const near = window.at(-20)!.seq;
  await time('folderIndex: above a UID 20 from the top (resync)', () => store.folderIndex(inbox, 'inbox', { afterSeq: near, limit: WINDOW }));
  const ids = window.map((e) => e.id);
  await time(`flagsOf: ${ids.length.toLocaleString('en')} ids`, () => store.flagsOf(inbox, ids));
  const some = ids.slice(0, 1000);
  let on = true;
  await time('setFlags: \\Flagged on 1,000, then off (alternating)', () => store.setFlags(inbox, some, { flagged: (on = !on) }));
  await time('highestSeq + uidValidity', () => Promise.all([store.highestSeq(), store.uidValidity()]));
}

if (values.pg) {
  let server: RunningPostgres | null = null;
  try {
    server = await startPostgres();
    const store = await openPostgresStore(await server.createDatabase('folder_index_bench'), { log });
    const t0 = performance.now();
    await fill(store, TOTAL);
    console.log(`PostgreSQL: filled ${TOTAL.toLocaleString('en')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await measure(store);
    await store.close();
  } finally {
    await server?.stop();
  }
} else {
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'kotak-bench-folders-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'folders.db');
  const reused = existsSync(file);
  try {
    if (!reused) await fillAtSchema013(dir, file);
    const t2 = performance.now();
    const store = await openSqliteStore(file, { log, syncCommits: false });
    console.log(`SQLite: open (nothing to migrate): ${(performance.now() - t2).toFixed(0)} ms`);
    await measure(store);
    await store.close();
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the database as the build before IMAP made it (migrations up to 013), then times migration 014 on it. */
async function fillAtSchema013(dir: string, file: string): Promise<void> {
  const older = join(dir, 'migrations-013');
  mkdirSync(older);
  const source = fileURLToPath(new URL('../src/store/migrations/', import.meta.url));
  for (const name of readdirSync(source).filter((f) => Number.parseInt(f, 10) <= 13)) copyFileSync(join(source, name), join(older, name));
  let store = await openSqliteStore(file, { log, syncCommits: false, migrations: pathToFileURL(`${older}/`) });
  const t0 = performance.now();
  await fill(store, TOTAL);
  console.log(`SQLite: filled ${TOTAL.toLocaleString('en')} at schema 013 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await store.close();
  const t1 = performance.now();
  store = await openSqliteStore(file, { log, syncCommits: false });
  console.log(`SQLite: open with migration 014 applied: ${(performance.now() - t1).toFixed(0)} ms`);
  await store.close();
}
