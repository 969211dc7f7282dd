/**
 * The substring search (CJK, Thai, terms without letters or digits) over packed bodies (migration
 * 011) against the same messages stored plain, as the builds before wrote them: the store of today
 * over a database filled at schema 010 (every text a TEXT, read by SQL's LIKE) and over one it
 * filled itself (texts packed, unpacked and matched in JavaScript). Texts as bench/million.ts's,
 * with every `--every`th holding `a = b` and every hundredth `東京`: the character mask lets through
 * only the bodies that could match. `--every 1` is the worst case for `=`: every body is unpacked.
 * Alternates the two stores, query by query. Prints; asserts nothing.
 *
 *   tsx bench/substring-scan.ts [--messages 100000] [--runs 5] [--every 10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { newMessageId } from '../src/mail/id.js';
import { ALL_MAILBOXES } from '../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../src/mail/search-query.js';
import type { NewMessage } from '../src/mail/types.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import { insertAsBefore011, indexUpTo, openAtSchema } from '../test/helpers/older-schema.js';
import { seededRandom } from '../test/helpers/random.js';
import { madeUpText } from './made-up-text.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' }, every: { type: 'string', default: '10' } } });
const TOTAL = Number(values.messages);
const RUNS = Number(values.runs);
const EVERY = Number(values.every);

const next = seededRandom(19);
const { sentence } = madeUpText(next);

function message(n: number): NewMessage {
  const from = `sender${n % 30}@shop${n % 30}.example`;
  const to = `user${n % 2000}@team.example`;
  const subject = `Update ${sentence(4)} #${n}`;
  const text = `${sentence(40 + Math.floor(next() * 360))}${n % EVERY === 0 ? ' a = b' : ''}${n % 100 === 0 ? ' 東京' : ''}`;
  const raw = `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <m${n}@bench.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`;
  const receivedAt = Date.parse('2026-11-01T00:00:00Z') + n * 60_000;
  return {
    id: newMessageId(receivedAt), mailbox: 'default', receivedAt, raw: Buffer.from(raw),
    envelope: { mailFrom: from, rcptTo: [to], clientAddress: '127.0.0.1', heloName: 'bench', user: null, tls: false },
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: from }, to: [{ name: '', address: to }], cc: [], bcc: [], replyTo: [], subject, messageId: `<m${n}@bench.example>`,
        date: null, text, html: null, htmlText: null, headers: [], attachments: [], snippet: text.slice(0, 200),
      },
    },
  };
}

const log = pino({ level: 'silent' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-bench-substring-'));
const stores: SqliteStore[] = [];
try {
  const messages = Array.from({ length: TOTAL }, (_, n) => message(n));
  const plainPath = path.join(dir, 'plain.db');
  const db = await openAtSchema(plainPath, 10, dir);
  await db.exec('BEGIN');
  for (const [i, m] of messages.entries()) await insertAsBefore011(db, i + 1, m);
  await db.exec('COMMIT');
  await indexUpTo(db, TOTAL);
  await db.close();
  const plain = await openSqliteStore(plainPath, { log, syncCommits: false });
  stores.push(plain);
  const packed = await openSqliteStore(path.join(dir, 'packed.db'), { log, syncCommits: false });
  stores.push(packed);
  for (let first = 0; first < TOTAL; first += 500) await Promise.all(messages.slice(first, first + 500).map((m) => packed.insert({ ...m, id: newMessageId(m.receivedAt) })));
  while ((await packed.fullTextBacklog()) > 0) await new Promise((resolve) => setTimeout(resolve, 200));

  console.log(`${TOTAL.toLocaleString('en-US')} messages, \`=\` in every ${EVERY}th text, 東京 in every 100th; list() of 50 with a bounded total, ${RUNS} runs each, alternated (Node ${process.version})`);
  for (const query of ['=', '東京', '= -東京', 'ทดสอบ']) {
    const times: Record<'plain' | 'packed', number[]> = { plain: [], packed: [] };
    let matched = '';
    for (let run = 0; run < RUNS; run++) {
      for (const [name, store] of [['plain', plain], ['packed', packed]] as const) {
        const t0 = performance.now();
        const page = await store.list(ALL_MAILBOXES, { query: parseSearchQuery(query), limit: 50, boundedTotal: true });
        times[name].push(performance.now() - t0);
        matched = `${page.totalIsLowerBound ? '≥' : ''}${page.total.toLocaleString('en-US')}`;
      }
    }
    const p50 = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!.toFixed(0).padStart(6);
    console.log(`${query.padEnd(10)} plain (LIKE) p50 ${p50(times.plain)} ms   packed (JS) p50 ${p50(times.packed)} ms   (${matched} match)`);
  }
} finally {
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
}
