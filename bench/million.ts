/**
 * Search and lists at a million messages (issue 19): fills a fresh store with --messages realistic
 * messages (text of 40–400 words from a 5,000-word vocabulary, 5% with a 20 KB PDF attachment, 30
 * senders, 2,000 recipients, a month of receive times), lets the full-text indexer finish, then
 * prints p50/p99 of each query through the store's own API (no HTTP: what the database costs),
 * the time of a delete-by-query of 1% of them (10,000 of a million), and the database's size per message against
 * the raw bytes stored.
 *
 *   tsx bench/million.ts                       # 1,000,000 messages (~2 GB, several minutes)
 *   tsx bench/million.ts --messages 100000 --runs 30
 *   tsx bench/million.ts --keep /tmp/m1m           # keep the store; run again to query it without a refill
 *
 * Messages are built here and inserted in batches of 500 (as group commit forms them under load),
 * skipping SMTP and MIME parsing, which bench/ingest.ts measures; receive times are set a minute
 * apart, oldest first. It measures and prints; it asserts nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { newMessageId } from '../src/mail/id.js';
import { ALL_MAILBOXES } from '../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../src/mail/search-query.js';
import type { NewMessage } from '../src/mail/types.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { seededRandom } from '../test/helpers/random.js';
import { madeUpText, PDF_BASE64, VOCABULARY } from './made-up-text.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '20' }, keep: { type: 'string' } } });
const TOTAL = Number(values.messages);
const RUNS = Number(values.runs);
if (!Number.isInteger(TOTAL) || TOTAL < 20_000) throw new Error('--messages must be a whole number ≥ 20000');

const next = seededRandom(19);
const { word, sentence } = madeUpText(next);
const START = Date.parse('2026-11-01T00:00:00Z');

function message(n: number): NewMessage {
  const from = `sender${n % 30}@shop${n % 30}.example`;
  const to = `user${n % 2000}@team.example`;
  const subject = `${n % 10 === 0 ? 'Invoice' : n % 10 === 1 ? 'Reset your password' : 'Update'} ${sentence(4)} #${n}`;
  const text = sentence(40 + Math.floor(next() * 360));
  const attached = n % 20 === 0;
  const headers = `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <m${n}@bench.example>\r\nMIME-Version: 1.0\r\n`;
  const raw = attached
    ? `${headers}Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--b\r\nContent-Type: application/pdf; name=report-${n}.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${PDF_BASE64}\r\n--b--\r\n`
    : `${headers}Content-Type: text/plain\r\n\r\n${text}\r\n`;
  const receivedAt = START + n * 60_000;
  return {
    id: newMessageId(receivedAt),
    mailbox: 'default',
    receivedAt,
    envelope: { mailFrom: from, rcptTo: [to], clientAddress: '127.0.0.1', heloName: 'bench', user: null, tls: false },
    raw: Buffer.from(raw),
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: from }, to: [{ name: '', address: to }], cc: [], bcc: [], replyTo: [], subject, messageId: `<m${n}@bench.example>`,
        date: null, text, html: null, htmlText: null, headers: [],
        attachments: attached ? [{ id: '2', filename: `report-${n}.pdf`, contentType: 'application/pdf', size: 20 * 1024, contentId: null, inline: false }] : [],
        snippet: text.slice(0, 200),
      },
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
const ms = (value: number) => value.toFixed(value < 10 ? 2 : 0).padStart(7);

// --keep DIR: the store stays in DIR, and a later run with the same DIR asks its queries of it
// again without filling it (nor deleting from it), to compare builds on the same data.
const dir = values.keep ?? mkdtempSync(path.join(os.tmpdir(), 'kotak-bench-million-'));
mkdirSync(dir, { recursive: true });
const file = path.join(dir, 'million.db');
const reused = existsSync(file);
const store = await openSqliteStore(file, { log: pino({ level: 'silent' }), syncCommits: false });
try {
  const kept = await store.stats(ALL_MAILBOXES);
  if (reused && kept.total !== TOTAL) throw new Error(`${file} holds ${kept.total} messages, not --messages ${TOTAL}`);
  let rawBytes = reused ? kept.size : 0;
  const fillStart = performance.now();
  for (let first = 0; first < (reused ? 0 : TOTAL); first += 500) {
    const batch = Array.from({ length: Math.min(500, TOTAL - first) }, (_, i) => message(first + i));
    for (const m of batch) rawBytes += m.raw.length;
    await Promise.all(batch.map((m) => store.insert(m)));
    if ((first / 500) % 200 === 0) process.stderr.write(`\r${first.toLocaleString('en-US')} stored…`);
  }
  const fillSeconds = (performance.now() - fillStart) / 1000;
  const indexStart = performance.now();
  while ((await store.fullTextBacklog()) > 0) await new Promise((resolve) => setTimeout(resolve, 200));
  const indexSeconds = (performance.now() - indexStart) / 1000;
  process.stderr.write('\n');

  const onDisk = readdirSync(dir).reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
  const ratio = onDisk / rawBytes;
  console.log(`${TOTAL.toLocaleString('en-US')} messages (${(rawBytes / 2 ** 30).toFixed(2)} GiB raw) stored in ${fillSeconds.toFixed(0)} s, the index caught up ${indexSeconds.toFixed(0)} s later (Node ${process.version}, ${os.cpus().length} cores)`);
  console.log(`database + WAL + raw files: ${(onDisk / 2 ** 30).toFixed(2)} GiB, ${(onDisk / TOTAL / 1024).toFixed(1)} KiB a message, ${ratio.toFixed(2)}× the raw bytes`);

  const pick = (list: readonly string[], run: number) => list[run % list.length]!;
  const common = VOCABULARY.slice(0, 40);
  const middling = VOCABULARY.slice(200, 240);
  const cases: { label: string; query: (run: number) => string; limit?: number; start?: (run: number) => number; cursor?: string }[] = [
    { label: 'newest 50', query: () => '' },
    { label: 'page 1,000 (start 49,950)', query: () => '', start: () => 49_950 },
    // Seqs run 1..TOTAL, oldest first: the cursor a walk of 999 pages of 50 would hold.
    { label: 'page 1,000 (by cursor)', query: () => '', cursor: String(TOTAL - 49_950 + 1) },
    { label: 'a common word', query: (run) => pick(common, run) },
    { label: 'a middling word', query: (run) => pick(middling, run) },
    { label: 'a phrase of two words', query: (run) => `"${pick(common, run)} ${pick(common, run + 1)}"` },
    { label: 'from:', query: (run) => `from:sender${run % 30}@` },
    { label: 'to:', query: (run) => `to:user${(run * 37) % 2000}@` },
    { label: 'subject:', query: (run) => `subject:"#${(run * 7919) % TOTAL}"` },
    { label: 'has:attachment', query: () => 'has:attachment' },
    { label: 'before:', query: (run) => `before:2026-11-${String(2 + (run % 20)).padStart(2, '0')}` },
    { label: 'a negation (-word)', query: (run) => `-${pick(common, run)}` },
    { label: 'word and from:', query: (run) => `${pick(middling, run)} from:sender${run % 30}@` },
    // Substring terms (CJK, no letters or digits): no index answers them; every body is read.
    { label: 'substring 東京', query: () => '東京' },
    { label: 'substring =', query: () => '=' },
  ];
  console.log(`\nthe store's list() as the API calls it, ${RUNS} runs each: p50 and p99 in ms (with every answer its total, bounded: "≥" when more match)`);
  for (const c of cases) {
    const times: number[] = [];
    let matched = '';
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const page = await store.list(ALL_MAILBOXES, { query: parseSearchQuery(c.query(run)), limit: 50, start: c.start?.(run) ?? 0, cursor: c.cursor ?? null, boundedTotal: true });
      times.push(performance.now() - t0);
      matched = `${page.totalIsLowerBound ? '≥' : ''}${page.total.toLocaleString('en-US')}`;
    }
    times.sort((a, b) => a - b);
    console.log(`${c.label.padEnd(28)} p50 ${ms(percentile(times, 0.5))}   p99 ${ms(percentile(times, 0.99))}   (last: ${matched} match)`);
  }
  if (values.keep !== undefined) {
    console.log(`\nkept in ${dir}; no delete by query (it would change the data for the next run)`);
  } else {
    // 1% of the messages (10,000 of a million): those of 20 of the 2,000 recipients, user0–user19.
    const doomed = Array.from({ length: 20 }, (_, i) => `to:user${i}@team.example`);
    let deleted = 0;
    const deleteStart = performance.now();
    for (const query of doomed) deleted += (await store.deleteMatching(ALL_MAILBOXES, parseSearchQuery(query))).length;
    console.log(`\ndelete by query: ${deleted.toLocaleString('en-US')} messages in ${((performance.now() - deleteStart) / 1000).toFixed(2)} s (20 queries)`);
  }
} finally {
  await store.close();
  if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
}
