/**
 * How long an idling IMAP client waits for new mail (issue 21): from the SMTP `250` (the message
 * is committed and announced) to the IDLE client reading `* N EXISTS` for it, over loopback, with
 * the built server (`node bin/kotak.js`, run `npm run build` after changing src/) on a fresh
 * SQLite database in a temporary directory.
 *
 *   tsx bench/imap-idle.ts [--messages 500] [--mode sequential|rate] [--rate 100] [--size 2000] [--durability crash|full]
 *
 * `sequential`: each message is sent once the previous one's EXISTS has arrived (the delay alone).
 * `rate`: messages are sent one after another on one SMTP connection, at most `--rate` a second
 * (0: back to back), without waiting for the EXISTS; the k-th 250 is matched to the k-th new
 * EXISTS, which holds because one connection's messages commit in order. Both clients are small
 * raw-socket clients (no library work on the measured path). A negative delay (EXISTS read before
 * the 250) is possible, as both follow the commit; it is counted and kept in the figures.
 * Prints p50/p90/p99/max in milliseconds: times, not assertions.
 */
import net from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startImapKotakProcess, tempDir } from '../test/helpers/imap-kotak.js';
import { dataPayload, SmtpTestClient } from '../test/helpers/smtp-client.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '500' },
    mode: { type: 'string', default: 'sequential' },
    rate: { type: 'string', default: '100' },
    size: { type: 'string', default: '2000' },
    durability: { type: 'string', default: 'crash' },
  },
});
const count = Number(values.messages);
const mode = values.mode === 'rate' ? 'rate' : 'sequential';
const rate = Number(values.rate);
const size = Number(values.size);

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

function message(n: number): Buffer {
  const head = `From: bench@example.com\r\nTo: inbox@example.com\r\nSubject: idle bench ${n}\r\nMessage-ID: <idle-${n}@bench.test>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog, again and again.\r\n';
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil((size - head.length) / line.length))));
}

/** The IDLE client: every `* N EXISTS` it reads, with when it read it. */
class IdleClient {
  #buffer = '';
  #onExists: (count: number, at: number) => void = () => undefined;
  #waiting: { test: (line: string) => boolean; resolve: () => void } | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const at = performance.now();
      this.#buffer += chunk;
      for (let end = this.#buffer.indexOf('\r\n'); end >= 0; end = this.#buffer.indexOf('\r\n')) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const exists = /^\* (\d+) EXISTS$/.exec(line);
        if (exists) this.#onExists(Number(exists[1]), at);
        if (this.#waiting?.test(line)) {
          const { resolve } = this.#waiting;
          this.#waiting = null;
          resolve();
        }
      }
    });
  }

  static connect(port: number): Promise<IdleClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new IdleClient(socket)));
      socket.once('error', reject);
    });
  }

  #line(test: (line: string) => boolean): Promise<void> {
    return new Promise((resolve) => (this.#waiting = { test, resolve }));
  }

  /** LOGIN, SELECT INBOX, IDLE; resolves with the message count once the server says `+ idling`. */
  async idle(): Promise<number> {
    let exists = 0;
    this.#onExists = (n) => (exists = n);
    const greeting = this.#line((l) => l.startsWith('* OK'));
    await greeting;
    const login = this.#line((l) => l.startsWith('l '));
    this.socket.write('l LOGIN bench secret\r\n');
    await login;
    const select = this.#line((l) => l.startsWith('s '));
    this.socket.write('s SELECT INBOX\r\n');
    await select;
    const idling = this.#line((l) => l.startsWith('+'));
    this.socket.write('i IDLE\r\n');
    await idling;
    return exists;
  }

  onExists(listener: (count: number, at: number) => void): void {
    this.#onExists = listener;
  }

  close(): void {
    this.socket.end('DONE\r\nz LOGOUT\r\n');
  }
}

async function main(): Promise<void> {
  const dir = tempDir('imap-idle-bench');
  const kotak = await startImapKotakProcess(['--db', join(dir, 'kotak.db'), '--durability', values.durability!]);
  try {
    const idler = await IdleClient.connect(kotak.imapPort);
    const base = await idler.idle();
    const smtp = await SmtpTestClient.connect(kotak.smtpPort);
    await smtp.hello();
    const acknowledged: number[] = [];
    const seenAt = new Map<number, number>();
    let wake: () => void = () => undefined;
    idler.onExists((n, at) => {
      for (let k = base + 1; k <= n; k++) if (!seenAt.has(k)) seenAt.set(k, at);
      wake();
    });
    const payloads = Array.from({ length: count }, (_, n) => dataPayload(message(n)));
    const started = performance.now();
    for (let n = 0; n < count; n++) {
      const due = started + (n * 1000) / rate;
      if (mode === 'rate' && rate > 0 && performance.now() < due) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      smtp.write('MAIL FROM:<bench@example.com>\r\nRCPT TO:<inbox@example.com>\r\nDATA\r\n');
      for (const expected of [250, 250, 354]) {
        const reply = await smtp.read();
        if (reply.code !== expected) throw new Error(`message ${n}: ${reply.text}`);
      }
      smtp.write(payloads[n]!);
      const stored = await smtp.read();
      acknowledged.push(performance.now());
      if (stored.code !== 250) throw new Error(`message ${n}: ${stored.text}`);
      if (mode === 'sequential') while (!seenAt.has(base + n + 1)) await new Promise<void>((resolve) => (wake = resolve));
    }
    while (seenAt.size < count) await new Promise<void>((resolve) => (wake = resolve));
    const elapsed = (performance.now() - started) / 1000;
    const delays = acknowledged.map((at, k) => seenAt.get(base + k + 1)! - at);
    const sorted = [...delays].sort((x, y) => x - y);
    const ms = (v: number): string => v.toFixed(2);
    console.log(
      `IMAP IDLE delay (SMTP 250 → * N EXISTS), ${mode}${mode === 'rate' ? (rate > 0 ? ` at ${rate}/s` : ' back to back') : ''}, ${count} messages of ${size} B in ${elapsed.toFixed(1)} s (${Math.round(count / elapsed)}/s): ` +
        `p50 ${ms(percentile(sorted, 50))} ms, p90 ${ms(percentile(sorted, 90))} ms, p99 ${ms(percentile(sorted, 99))} ms, max ${ms(sorted.at(-1)!)} ms` +
        `${sorted[0]! < 0 ? `; ${sorted.filter((d) => d < 0).length} EXISTS read before their 250` : ''}`,
    );
    smtp.close();
    idler.close();
  } finally {
    await kotak.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
