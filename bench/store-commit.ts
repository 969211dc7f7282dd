/**
 * How fast the store alone commits, without SMTP or parsing on the clock: the ceiling that the
 * database and the disk put on ingest. bench/ingest.ts's 1 KB messages (bench/messages.ts) are
 * parsed beforehand, then inserted `--batch` at a time, each batch awaited (as group commit does when
 * that many messages arrive during one commit), into a fresh file database with Kotak's schema
 * and settings (WAL, synchronous=FULL).
 *
 *   tsx bench/store-commit.ts [--batch 5] [--messages 4000]
 *
 * Prints messages/second, the time per commit (p50 and mean) and the WAL frames one commit writes
 * (from the WAL's size after the first 21 commits, before the first automatic checkpoint).
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

const { values } = parseArgs({ options: { batch: { type: 'string', default: '5' }, messages: { type: 'string', default: '4000' } } });
const batch = Number(values.batch);
const total = Number(values.messages);
if (!(batch >= 1) || !(total >= batch)) throw new Error('--batch must be ≥ 1 and --messages ≥ --batch');

/** bench/ingest.ts's 1 KB message, as the server stores it. */
const template = buildTemplate(SIZES['1k']!);
const envelope: Envelope = { mailFrom: 'bench@kotak.test', rcptTo: ['inbox@kotak.test'], clientAddress: '127.0.0.1', heloName: 'localhost', user: null, tls: false };

async function run(): Promise<{ perSecond: number; p50: number; mean: number; framesPerCommit: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-store-bench-'));
  const file = path.join(dir, 'store.db');
  try {
    const store = await openSqliteStore(file, { log: pino({ level: 'silent' }) });
    const raws = Array.from({ length: total }, (_, n) => template.stored(n));
    const parsed = await Promise.all(raws.map((raw) => parseMessage(raw)));
    const times: number[] = [];
    const started = performance.now();
    let framesPerCommit = NaN;
    for (let first = 0; first < total; first += batch) {
      const inserts = [];
      for (let n = first; n < Math.min(total, first + batch); n++) {
        const now = Date.now();
        inserts.push(store.insert({ id: newMessageId(now), mailbox: 'default', receivedAt: now, envelope, raw: raws[n]!, parsed: { ok: true, message: parsed[n]! } }));
      }
      const t0 = performance.now();
      await Promise.all(inserts);
      times.push(performance.now() - t0);
      if (first === batch * 20) framesPerCommit = walFrames(file) / 21; // 21 commits so far
    }
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    times.sort((a, b) => a - b);
    return { perSecond: total / seconds, p50: times[times.length >> 1]!, mean: times.reduce((a, b) => a + b, 0) / times.length, framesPerCommit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Frames in the WAL so far (16 KB pages plus a 24-byte frame header; the file has a 32-byte header). */
function walFrames(file: string): number {
  const page = 16384;
  return (statSync(`${file}-wal`).size - 32) / (page + 24);
}

const result = await run();
process.stdout.write(
  `store alone, batches of ${batch}, ${total} messages of ${template.messageBytes} B: ${result.perSecond.toFixed(0)} msg/s, ` +
    `commit p50 ${result.p50.toFixed(2)} ms, mean ${result.mean.toFixed(2)} ms, ~${result.framesPerCommit.toFixed(1)} WAL frames (16 KB pages) per commit\n`,
);
