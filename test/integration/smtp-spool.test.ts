/**
 * Large messages are received into a spool file beside the database (src/smtp/message-data.ts,
 * src/store/spool.ts) instead of memory, and the spool file becomes their raw file at commit. What
 * is stored must be byte for byte what an in-memory intake stores; no spool file may outlive its
 * message, whether it was stored, refused (552), abandoned by the client, or the process was killed.
 */
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startKotakProcess } from '../helpers/child.js';
import { withKotak, type RunningKotak } from '../helpers/kotak.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import { getJson, transport } from '../helpers/kotak.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let dbCount = 0;
const newDb = (): string => join(dir, `spool-${++dbCount}.db`);

/** The files of the raw-file directory beside `db`, by kind. */
function rawDirectory(db: string): { spool: string[]; raw: string[] } {
  let names: string[] = [];
  try {
    names = readdirSync(`${db}.raw`);
  } catch {
    // Not made yet: no large message so far.
  }
  return { spool: names.filter((n) => n.startsWith('spool-')), raw: names.filter((n) => !n.startsWith('spool-')) };
}

/** Waits until a spool file of at least `bytes` exists beside `db`. */
async function spoolFileGrows(db: string, bytes: number): Promise<void> {
  await vi.waitFor(
    () => {
      const [name] = rawDirectory(db).spool;
      expect(name).toBeDefined();
      expect(statSync(join(`${db}.raw`, name!)).size).toBeGreaterThanOrEqual(bytes);
    },
    { timeout: 10_000, interval: 10 },
  );
}

async function rawOf(kotak: { url: string }, id: string): Promise<Buffer> {
  const res = await fetch(`${kotak.url}/api/messages/${id}/raw`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Opens a session up to DATA's 354. */
async function openData(port: number, rcpts: readonly string[] = ['b@example.com']): Promise<RawSmtp> {
  const smtp = await RawSmtp.connect(port);
  expect((await smtp.read()).code).toBe(220);
  expect((await smtp.command('EHLO client.test')).code).toBe(250);
  expect((await smtp.command('MAIL FROM:<a@example.com>')).code).toBe(250);
  for (const rcpt of rcpts) expect((await smtp.command(`RCPT TO:<${rcpt}>`)).code).toBe(250);
  expect((await smtp.command('DATA')).code).toBe(354);
  return smtp;
}

/** Sends `wire` (already dot-stuffed, terminator included) in chunks of these sizes, round robin; returns the reply. */
async function sendData(port: number, wire: Buffer, chunkSizes: readonly number[]): Promise<{ code: number; id: string }> {
  const smtp = await openData(port);
  for (let at = 0, i = 0; at < wire.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]!;
    smtp.write(wire.subarray(at, at + size));
    at += size;
  }
  const reply = await smtp.read();
  await smtp.command('QUIT').catch(() => undefined);
  return { code: reply.code, id: /queued as (\S+)/.exec(reply.text)?.[1] ?? '' };
}

/**
 * A message whose DATA exercises every rule of the end-of-data scanner: dot-stuffed lines, lines
 * that are only a dot (stuffed), bare LF and bare CR (which never end DATA), "\r\n.\r\n"-like
 * sequences with a bare line ending, and long runs of plain text between them.
 */
function trickyMessage(bytes: number): { stored: Buffer; wire: Buffer } {
  const head = 'From: a@example.com\r\nTo: b@example.com\r\nSubject: spool\r\n\r\n';
  const lines: string[] = [];
  let size = head.length;
  for (let i = 0; size < bytes; i++) {
    const kind = i % 9;
    const line =
      kind === 0 ? `.starts with a dot ${i}\r\n` :
      kind === 1 ? '.\r\n' :
      kind === 2 ? `bare lf ${i}\n.\n` :
      kind === 3 ? `bare cr ${i}\r.\r\n` :
      kind === 4 ? `..two dots ${i}\r\n` :
      `${'x'.repeat(70)} ${i}\r\n`;
    lines.push(line);
    size += line.length;
  }
  lines.push('the end\r\n');
  const stored = Buffer.from(head + lines.join(''), 'latin1');
  // Dot-stuffing as a client does it: a dot at the start of a CRLF-ended line gets a second one.
  const stuffed = (head + lines.join('')).replace(/(^|\r\n)\./g, '$1..');
  // The last line's CRLF is the terminator's first.
  return { stored, wire: Buffer.from(`${stuffed}.\r\n`, 'latin1') };
}

describe('large messages are spooled to a file while they arrive', () => {
  it('stores the same bytes as the in-memory intake, whatever the chunking', async () => {
    const db = newDb();
    const spooling = await withKotak({ db });
    // ':memory:' has no raw-file directory: every message is received in memory there.
    const inMemory = await withKotak();
    try {
      const cases = [
        trickyMessage(300_000),
        trickyMessage(1_500_000),
        // Just under and just over the spool threshold (256 KB): the switch happens mid-stream.
        trickyMessage(256 * 1024 - 10),
        trickyMessage(256 * 1024 + 10),
      ];
      const chunkings = [[1_000_000], [65_536], [7, 4093, 1, 65_521, 3]];
      for (const { stored, wire } of cases) {
        for (const chunking of chunkings) {
          const viaSpool = await sendData(spooling.smtpPort, wire, chunking);
          const viaMemory = await sendData(inMemory.smtpPort, wire, chunking);
          expect(viaSpool.code).toBe(250);
          expect(viaMemory.code).toBe(250);
          const [spooled, kept] = await Promise.all([rawOf(spooling, viaSpool.id), rawOf(inMemory, viaMemory.id)]);
          expect(spooled.equals(kept)).toBe(true);
          expect(spooled.equals(stored)).toBe(true);
        }
      }
      expect(rawDirectory(db).spool).toEqual([]);
    } finally {
      await Promise.all([spooling.stop(), inMemory.stop()]);
    }
  });

  it('writes a message past the threshold to a spool file as it arrives, and removes it when the client goes away', async () => {
    const db = newDb();
    const kotak = await withKotak({ db });
    try {
      const smtp = await openData(kotak.smtpPort);
      // 2 MB of the message, never ended.
      smtp.write(Buffer.from(`Subject: left\r\n\r\n${`${'y'.repeat(78)}\r\n`.repeat(25_000)}`));
      await spoolFileGrows(db, 1_000_000);
      smtp.destroy();
      await vi.waitFor(() => expect(rawDirectory(db).spool).toEqual([]), { timeout: 10_000, interval: 10 });
      expect(rawDirectory(db).raw).toEqual([]);
      expect(((await (await fetch(`${kotak.url}/api/stats`)).json()) as { total: number }).total).toBe(0);
    } finally {
      await kotak.stop();
    }
  });

  it('removes the spool file of a message refused as too big (552)', async () => {
    const db = newDb();
    const kotak = await withKotak({ db, maxMessageSize: 1_000_000 });
    try {
      const smtp = await openData(kotak.smtpPort);
      const line = `${'z'.repeat(78)}\r\n`;
      smtp.write(Buffer.from(`Subject: big\r\n\r\n${line.repeat(8_000)}`));
      // Spooled past 256 KB, before the limit is reached.
      await spoolFileGrows(db, 300_000);
      smtp.write(Buffer.from(`${line.repeat(10_000)}\r\n.\r\n`));
      expect((await smtp.read()).code).toBe(552);
      await vi.waitFor(() => expect(rawDirectory(db).spool).toEqual([]), { timeout: 10_000, interval: 10 });
      expect(rawDirectory(db).raw).toEqual([]);
      smtp.destroy();
    } finally {
      await kotak.stop();
    }
  });

  it('gives each mailbox its own raw file of a spooled message, and leaves no spool file', async () => {
    const db = newDb();
    const kotak: RunningKotak = await withKotak({ db, mailboxRoute: '*@billing.test=billing' });
    try {
      const { stored, wire } = trickyMessage(600_000);
      const smtp = await openData(kotak.smtpPort, ['a@billing.test', 'b@example.com']);
      smtp.write(wire);
      const reply = await smtp.read();
      expect(reply.code).toBe(250);
      const ids = /queued as (\S+) (\S+)/.exec(reply.text)!.slice(1);
      expect(ids).toHaveLength(2);
      for (const id of ids) expect((await rawOf(kotak, id)).equals(stored)).toBe(true);
      expect(rawDirectory(db)).toEqual({ spool: [], raw: [...ids].sort() });
      // Deleting one copy leaves the other's bytes.
      expect((await fetch(`${kotak.url}/api/messages/${ids[0]}`, { method: 'DELETE' })).status).toBeLessThan(300);
      expect((await rawOf(kotak, ids[1]!)).equals(stored)).toBe(true);
      smtp.destroy();
    } finally {
      await kotak.stop();
    }
  });

  it('parses a spooled message from its file: a 20 MB attachment and a 3 MB text read back whole', async () => {
    const db = newDb();
    const kotak = await withKotak({ db });
    try {
      const content = Buffer.alloc(20 * 1024 * 1024);
      for (let i = 0; i < content.length; i += 4) content.writeUInt32LE((i * 2654435761) >>> 0, i);
      const text = Array.from({ length: 40_000 }, (_, i) => `line ${i} of a long text body, ${'w'.repeat(40)}`).join('\n');
      const mailer = transport(kotak);
      const withAttachment = await mailer.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'big attachment', text: 'see attached', attachments: [{ filename: 'big.bin', content }] });
      const withText = await mailer.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'big text', text });
      mailer.close();
      const attachmentId = /queued as (\S+)/.exec(withAttachment.response)![1]!;
      const textId = /queued as (\S+)/.exec(withText.response)![1]!;
      const detail = (await getJson(kotak, `/api/messages/${attachmentId}`)).body as { text: string; attachments: { id: string; filename: string; size: number }[]; parseError?: string };
      expect(detail.parseError).toBeUndefined();
      expect(detail.text.trim()).toBe('see attached');
      expect(detail.attachments.map((a) => [a.filename, a.size])).toEqual([['big.bin', content.length]]);
      const download = await fetch(`${kotak.url}/api/messages/${attachmentId}/parts/${detail.attachments[0]!.id}`);
      expect(Buffer.from(await download.arrayBuffer()).equals(content)).toBe(true);
      expect(((await getJson(kotak, `/api/messages/${textId}`)).body as { text: string }).text.trimEnd()).toBe(text);
      expect(rawDirectory(db).spool).toEqual([]);
    } finally {
      await kotak.stop();
    }
  });

  it('after kill -9 mid-spool, the restarted server has removed the spool file and kept what it acknowledged', async () => {
    const db = newDb();
    const args = ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db];
    const first = await startKotakProcess(args);
    const { stored, wire } = trickyMessage(400_000);
    const acknowledged = await sendData(first.smtpPort, wire, [65_536]);
    expect(acknowledged.code).toBe(250);
    const smtp = await openData(first.smtpPort);
    smtp.write(Buffer.from(`Subject: cut\r\n\r\n${`${'k'.repeat(78)}\r\n`.repeat(10_000)}`));
    await spoolFileGrows(db, 500_000);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    smtp.destroy();
    expect(rawDirectory(db).spool).toHaveLength(1);
    const second = await startKotakProcess(args);
    try {
      expect(rawDirectory(db).spool).toEqual([]);
      expect((await rawOf(second, acknowledged.id)).equals(stored)).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
  });
});
