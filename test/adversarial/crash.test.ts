/**
 * Crash test: kotak runs as a child process on a file database and takes a steady SMTP load from
 * several connections; five times, at a seeded moment (the k-th step of the load: a command
 * answered, half a message written, a message written, a 250 received), it is killed with
 * SIGKILL and started again on the same database. At the end, every message that got a 250 is
 * there, by its id, byte for byte, and no message is there twice. A message that was in flight at
 * a kill (no 250) may or may not be there: both are fine, it is only counted.
 *
 * Seeded like the fuzz test: KOTAK_FUZZ_SEED=<seed> replays the same kill points and messages
 * (the interleaving of the connections, and so what is in flight at a kill, still varies).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startKotakProcess, type KotakProcess } from '../helpers/child.js';
import { fuzzSeed, Random } from '../helpers/mutate.js';
import { dataPayload, SmtpTestClient, type Reply } from '../helpers/smtp-client.js';

const KILLS = 5;
const CONNECTIONS = 4;
/** Each message is six steps (MAIL, RCPT, DATA answered; half, all of the message written; 250); a kill comes after 50 to 750 steps (about 8 to 125 messages). */
const KILL_STEP_RANGE: [number, number] = [50, 750];
/** Generous: nothing here asserts on time, a deadline only turns a hang into a failure. */
const REPLY_DEADLINE_MS = 60_000;

interface Sent {
  readonly n: number;
  readonly subject: string;
  readonly messageId: string;
  readonly raw: Buffer;
  /** The id from "250 ... queued as <id>", or null when no 250 came (killed in flight). */
  id: string | null;
}

function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${REPLY_DEADLINE_MS} ms`)), REPLY_DEADLINE_MS)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Message n: unique Subject and Message-ID; a third carry an attachment (2 KB to 300 KB) so commit batches vary. */
function message(seed: number, n: number): Sent {
  const random = new Random((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
  const subject = `crash ${seed} #${n}`;
  const messageId = `crash-${seed}-${n}@kotak.test`;
  const boundary = `b-${random.word(12)}`;
  const text = `message ${n}\r\n.leading dot\r\n${random.word(random.between(10, 2000))}\r\n`;
  const attachment = random.chance(0.33) ? Buffer.from(random.bytes(random.pick([2_000, 20_000, 100_000, 300_000])), 'latin1') : null;
  const body = attachment
    ? `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain\r\n\r\n${text}--${boundary}\r\n` +
      `Content-Type: application/octet-stream; name="a${n}.bin"\r\nContent-Disposition: attachment; filename="a${n}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${attachment.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--${boundary}--\r\n`
    : `Content-Type: text/plain\r\n\r\n${text}`;
  const raw = Buffer.from(`From: crash@example.com\r\nTo: inbox@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${messageId}>\r\nMIME-Version: 1.0\r\n${body}`, 'latin1');
  return { n, subject, messageId, raw, id: null };
}

function queryAll<T>(db: sqlite3.Database, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => db.all(sql, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows))));
}

describe('crash test: SIGKILL under SMTP load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-crash-'));
  const db = join(dir, 'kotak.db');
  const args = ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db, '--log-level', 'info', '--parse-workers', '1'];
  let running: KotakProcess | null = null;
  afterAll(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await once(running.child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged message, once and byte for byte, across five kills at random moments', { timeout: 300_000 }, async () => {
    const seed = fuzzSeed();
    const random = new Random((seed ^ 0xc5a5c5a5) >>> 0);
    const killSteps = Array.from({ length: KILLS }, () => random.between(...KILL_STEP_RANGE));
    console.log(`crash seed ${seed} (replay: KOTAK_FUZZ_SEED=${seed}); kills after steps ${killSteps.join(', ')}`);

    const sent: Sent[] = [];
    const perRound: { acknowledged: number; inFlight: number }[] = [];

    for (const killAt of killSteps) {
      const server = await startKotakProcess(args);
      running = server;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      let steps = 0;
      let killed = false;
      const exited = once(server.child, 'exit');
      const step = (): void => {
        if (killed || ++steps < killAt) return;
        killed = true;
        server.child.kill('SIGKILL');
      };
      const ackedBefore = sent.filter((s) => s.id).length;
      const sentBefore = sent.length;

      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          let client: SmtpTestClient | null = null;
          try {
            client = await SmtpTestClient.connect(server.smtpPort);
            const c = client;
            const expect250 = async (line: string, want: number): Promise<void> => {
              const reply: Reply = await withDeadline(c.command(line), `reply to ${line}`);
              if (reply.code !== want) throw new Error(`${line} answered ${reply.text}`);
              step();
            };
            await withDeadline(c.hello('crash.test'), 'EHLO reply');
            while (!killed) {
              const message_ = message(seed, sent.length);
              sent.push(message_);
              await expect250('MAIL FROM:<crash@example.com>', 250);
              await expect250('RCPT TO:<inbox@example.com>', 250);
              await expect250('DATA', 354);
              const payload = dataPayload(message_.raw);
              const half = Math.floor(payload.length / 2);
              c.write(payload.subarray(0, half));
              step();
              c.write(payload.subarray(half));
              step();
              const reply = await withDeadline(c.read(), 'reply to the message data');
              if (reply.code !== 250) throw new Error(`message ${message_.n} answered ${reply.text}`);
              message_.id = /queued as (\S+)/.exec(reply.text)![1]!;
              step();
            }
          } catch (err) {
            // After the kill every connection ends this way; before it, nothing may fail.
            if (!killed) throw err;
          } finally {
            client?.close();
          }
        }),
      );
      await exited;
      running = null;
      perRound.push({ acknowledged: sent.filter((s) => s.id).length - ackedBefore, inFlight: sent.slice(sentBefore).filter((s) => !s.id).length });
    }

    // Restarted once more on the same database: everything acknowledged is there, once.
    const server = await startKotakProcess(args);
    running = server;
    const acknowledged = sent.filter((s): s is Sent & { id: string } => s.id !== null);
    const byMessageId = new Map(sent.map((s) => [s.messageId, s]));
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const missing: string[] = [];
      for (const s of acknowledged) {
        const view = await fetch(`${server.url}/api/messages/${s.id}`);
        if (view.status !== 200) {
          missing.push(`#${s.n} ${s.id}: GET answered ${view.status}`);
          continue;
        }
        const body = (await view.json()) as { subject: string; messageId: string | null };
        if (body.subject !== s.subject || body.messageId !== s.messageId) missing.push(`#${s.n} ${s.id}: got ${body.subject} / ${body.messageId}`);
        const raw = Buffer.from(await (await fetch(`${server.url}/api/messages/${s.id}/raw`)).arrayBuffer());
        if (!raw.equals(s.raw)) missing.push(`#${s.n} ${s.id}: raw differs (${raw.length} bytes stored, ${s.raw.length} sent)`);
      }
      expect(missing).toEqual([]);

      // Every stored message, page by page: each one we sent, none twice.
      const listed: { id: string; messageId: string | null }[] = [];
      for (let cursor: string | null = null; ; ) {
        const page = (await (await fetch(`${server.url}/api/messages?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).json()) as { messages: { id: string; messageId: string | null }[]; nextCursor: string | null };
        listed.push(...page.messages);
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      const counts = new Map<string, number>();
      for (const m of listed) counts.set(m.messageId ?? '(none)', (counts.get(m.messageId ?? '(none)') ?? 0) + 1);
      expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
      expect([...counts.keys()].filter((id) => !byMessageId.has(id))).toEqual([]);
      expect(new Set(listed.map((m) => m.id)).size).toBe(listed.length);
      const stats = (await (await fetch(`${server.url}/api/stats`)).json()) as { total: number };
      expect(stats.total).toBe(listed.length);

      const unacknowledged = sent.filter((s) => !s.id);
      const presentAnyway = unacknowledged.filter((s) => counts.has(s.messageId)).length;
      console.log(
        `crash seed ${seed}: ${sent.length} messages started, ${acknowledged.length} acknowledged (all present), ` +
          `${unacknowledged.length} in flight at a kill (${presentAnyway} present, ${unacknowledged.length - presentAnyway} absent: both allowed); ` +
          `per round: ${perRound.map((r) => `${r.acknowledged} acked/${r.inFlight} in flight`).join(', ')}`,
      );
      expect(acknowledged.length).toBeGreaterThan(KILLS * 5);
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      running = null;
    }

    // The database itself: intact, and no message half-written (summary, body and raw rows agree).
    const database = await new Promise<sqlite3.Database>((resolve, reject) => {
      const opened: sqlite3.Database = new sqlite3.Database(db, sqlite3.OPEN_READONLY, (err) => (err ? reject(err) : resolve(opened)));
    });
    try {
      expect(await queryAll<{ integrity_check: string }>(database, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      const [row] = await queryAll<{ messages: number; bodies: number; raws: number; dupes: number }>(
        database,
        `SELECT (SELECT COUNT(*) FROM messages) AS messages, (SELECT COUNT(*) FROM message_bodies) AS bodies, (SELECT COUNT(*) FROM message_raw) AS raws,
                (SELECT COUNT(*) FROM (SELECT message_id FROM messages GROUP BY message_id HAVING COUNT(*) > 1)) AS dupes`,
      );
      expect(row).toEqual({ messages: row!.messages, bodies: row!.messages, raws: row!.messages, dupes: 0 });
      expect(row!.messages).toBeGreaterThanOrEqual(acknowledged.length);
    } finally {
      await new Promise<void>((resolve) => database.close(() => resolve()));
    }
  });
});
