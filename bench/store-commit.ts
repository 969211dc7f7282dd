/**
 * How fast the store alone commits, without SMTP or parsing on the clock: the ceiling that the
 * database and the disk put on ingest. bench/ingest.ts's 1 KB messages (bench/messages.ts) are
 * parsed beforehand, then inserted `--batch` at a time, each batch awaited (as group commit does when
 * that many messages arrive during one commit), into a fresh file database with Kotak's schema
 * and settings (WAL, synchronous=FULL).
 *
 *   tsx bench/store-commit.ts [--size 1k|50k|128k|256k|1m] [--batch 5] [--messages 4000]
 *
 * Prints messages/second, the time per commit (p50 and mean) and the WAL bytes one commit writes
 * (how the WAL grew over the second and third commits, before any automatic checkpoint).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseMessage } from '../src/mail/parse.js';
import { newMessageId } from '../src/mail/id.js';
import type { Envelope } from '../src/mail/types.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { buildTemplate, SIZES } from './messages.js';

const { values } = parseArgs({
  options: { batch: { type: 'string', default: '5' }, messages: { type: 'string' }, size: { type: 'string', default: '1k' } },
});
const size = SIZES[values.size];
if (!size) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
const batch = Number(values.batch);
const total = Number(values.messages ?? Math.min(4000, size.messages));
if (!(batch >= 1) || !(total >= batch)) throw new Error('--batch must be ≥ 1 and --messages ≥ --batch');

/** bench/ingest.ts's message of that size, as the server stores it. */
const template = buildTemplate(size);
const envelope: Envelope = { mailFrom: 'bench@kotak.test', rcptTo: ['inbox@kotak.test'], clientAddress: '127.0.0.1', heloName: 'localhost', user: null, tls: false };

async function run(): Promise<{ perSecond: number; p50: number; mean: number; walBytesPerCommit: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-store-bench-'));
  const file = path.join(dir, 'store.db');
  try {
    const store = await openSqliteStore(file, { log: pino({ level: 'silent' }) });
    const raws = Array.from({ length: total }, (_, n) => template.stored(n));
    const parsed = await Promise.all(raws.map((raw) => parseMessage(raw)));
    const times: number[] = [];
    const started = performance.now();
    let walBytesPerCommit = NaN;
    let walAfterFirstCommit = 0;
    for (let first = 0; first < total; first += batch) {
      const inserts = [];
      for (let n = first; n < Math.min(total, first + batch); n++) {
        const now = Date.now();
        inserts.push(store.insert({ id: newMessageId(now), mailbox: 'default', receivedAt: now, envelope, raw: raws[n]!, parsed: { ok: true, message: parsed[n]! } }));
      }
      const t0 = performance.now();
      await Promise.all(inserts);
      times.push(performance.now() - t0);
      if (first === 0) walAfterFirstCommit = walBytes(file);
      if (first === batch * 2) walBytesPerCommit = (walBytes(file) - walAfterFirstCommit) / 2;
    }
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    times.sort((a, b) => a - b);
    return { perSecond: total / seconds, p50: times[times.length >> 1]!, mean: times.reduce((a, b) => a + b, 0) / times.length, walBytesPerCommit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function walBytes(file: string): number {
  return statSync(`${file}-wal`).size;
}

const result = await run();
process.stdout.write(
  `store alone, batches of ${batch}, ${total} messages of ${template.messageBytes} B: ${result.perSecond.toFixed(0)} msg/s, ` +
    `commit p50 ${result.p50.toFixed(2)} ms, mean ${result.mean.toFixed(2)} ms, ~${(result.walBytesPerCommit / 1024).toFixed(0)} KB of WAL per commit\n`,
);
