/**
 * How fast the store alone commits, without SMTP or parsing on the clock: the ceiling that the
 * database and the disk put on ingest. bench/ingest.ts's 1 KB messages (bench/messages.ts) are
 * parsed beforehand, then inserted `--batch` at a time, each batch awaited (as group commit does when
 * that many messages arrive during one commit), into a fresh file database with Kotak's schema
 * and settings (WAL; synchronous=FULL with `--durability full`, the default here, NORMAL with
 * `--durability crash`, Kotak's own default).
 *
 *   tsx bench/store-commit.ts [--size 1k|50k|128k|256k|1m] [--batch 5] [--messages 4000] [--mailboxes 1] [--durability full|crash] [--webhook-endpoints 0]
 *
 * Prints messages/second, the time per commit (p50 and mean), the WAL bytes one commit writes
 * (how the WAL grew over the second and third commits, before any automatic checkpoint) and, on
 * Linux, the bytes written per message in all (WAL and checkpoints: `wchar` of /proc/self/io).
 * --mailboxes N spreads the messages over N mailboxes as bench/ingest.ts does (message n to
 * mailbox mb<n mod N>, addressed to it), without SMTP or routing: what the store alone pays.
 * --webhook-endpoints N gives every message N webhook endpoints (`NewMessage.webhookEndpoints`):
 * its outbox rows are written in its commit (issue 22), what a `message:stored` webhook costs intake.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseMessage } from '../src/mail/parse.js';
import { newMessageId } from '../src/mail/id.js';
import type { Envelope } from '../src/mail/types.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { buildTemplate, recipients, SIZES } from './messages.js';

const { values } = parseArgs({
  options: { batch: { type: 'string', default: '5' }, messages: { type: 'string' }, size: { type: 'string', default: '1k' }, mailboxes: { type: 'string', default: '1' }, durability: { type: 'string', default: 'full' }, 'webhook-endpoints': { type: 'string', default: '0' } },
});
const size = SIZES[values.size];
if (!size) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
const batch = Number(values.batch);
const total = Number(values.messages ?? Math.min(4000, size.messages));
const mailboxes = Number(values.mailboxes);
if (!(batch >= 1) || !(total >= batch)) throw new Error('--batch must be ≥ 1 and --messages ≥ --batch');
if (!Number.isInteger(mailboxes) || mailboxes < 1) throw new Error('--mailboxes must be a whole number ≥ 1');
const webhookEndpoints = Array.from({ length: Number(values['webhook-endpoints']) }, (_, i) => `http://127.0.0.1:9/hook-${i}`);
if (values.durability !== 'full' && values.durability !== 'crash') throw new Error('--durability must be full or crash');

/** bench/ingest.ts's messages of that size, as the server stores them, with their envelopes and mailboxes. */
const to = recipients(mailboxes);
const template = buildTemplate(size, to);
const envelopes: Envelope[] = to.map((rcpt) => ({ mailFrom: 'bench@kotak.test', rcptTo: [rcpt], clientAddress: '127.0.0.1', heloName: 'localhost', user: null, tls: false }));
/** The mailbox bench/ingest.ts's `{mailbox}` route gives each recipient (user@mb<k>.inbox.test → mb<k>). */
const mailboxNames = to.map((rcpt) => (mailboxes === 1 ? 'default' : rcpt.slice(rcpt.indexOf('@') + 1, rcpt.indexOf('.'))));

async function run(): Promise<{ perSecond: number; p50: number; mean: number; walBytesPerCommit: number; writtenPerMessage: number | null }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-store-bench-'));
  const file = path.join(dir, 'store.db');
  try {
    const store = await openSqliteStore(file, { log: pino({ level: 'silent' }), syncCommits: values.durability === 'full' });
    const raws = Array.from({ length: total }, (_, n) => template.stored(n));
    const parsed = await Promise.all(raws.map((raw) => parseMessage(raw)));
    const times: number[] = [];
    const writtenBefore = bytesWritten();
    const started = performance.now();
    let walBytesPerCommit = NaN;
    let walAfterFirstCommit = 0;
    for (let first = 0; first < total; first += batch) {
      const inserts = [];
      for (let n = first; n < Math.min(total, first + batch); n++) {
        const now = Date.now();
        const k = n % mailboxes;
        inserts.push(store.insert({ id: newMessageId(now), mailbox: mailboxNames[k]!, receivedAt: now, envelope: envelopes[k]!, raw: raws[n]!, parsed: { ok: true, message: parsed[n]! }, webhookEndpoints }));
      }
      const t0 = performance.now();
      await Promise.all(inserts);
      times.push(performance.now() - t0);
      if (first === 0) walAfterFirstCommit = walBytes(file);
      if (first === batch * 2) walBytesPerCommit = (walBytes(file) - walAfterFirstCommit) / 2;
    }
    const seconds = (performance.now() - started) / 1000;
    const writtenAfter = bytesWritten();
    await store.close();
    times.sort((a, b) => a - b);
    const writtenPerMessage = writtenBefore === null || writtenAfter === null ? null : (writtenAfter - writtenBefore) / total;
    return { perSecond: total / seconds, p50: times[times.length >> 1]!, mean: times.reduce((a, b) => a + b, 0) / times.length, walBytesPerCommit, writtenPerMessage };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function walBytes(file: string): number {
  return statSync(`${file}-wal`).size;
}

/** Bytes this process has passed to write calls so far (`wchar`, Linux); null elsewhere. */
function bytesWritten(): number | null {
  try {
    const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

const result = await run();
process.stdout.write(
  `store alone, batches of ${batch}, ${total} messages of ${template.messageBytes} B, ${mailboxes} mailbox${mailboxes === 1 ? '' : 'es'}: ` +
    `${result.perSecond.toFixed(0)} msg/s, commit p50 ${result.p50.toFixed(2)} ms, mean ${result.mean.toFixed(2)} ms, ~${(result.walBytesPerCommit / 1024).toFixed(0)} KB of WAL per commit` +
    `${result.writtenPerMessage === null ? '' : `, ${(result.writtenPerMessage / 1024).toFixed(1)} KB written per message`}\n`,
);
