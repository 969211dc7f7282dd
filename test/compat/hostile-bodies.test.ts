/**
 * Issue 15: two messages, each a text part inside 31 nested multipart/mixed, made MailHog's
 * /api/v2/messages build a JSON answer of 33 copies of every byte (a 5 MB message: 204 MB of JSON,
 * 2 GB of RSS; 48 MB ones killed the process). Every list answer, of every API Kotak serves, must
 * stay small whatever the messages, and no answer may cost memory out of proportion to them.
 *
 * Its own file: the peak RSS of this test process (forks pool) is then this scenario's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const MB = 1024 * 1024;
const DEPTH = 31;
const LINE = 'All work and no play makes Jack a dull boy, again and again and again.\r\n';
const TEXT = LINE.repeat(Math.ceil((5 * MB) / LINE.length));

function nestedMessage(subject: string): Buffer {
  let message = `Content-Type: text/plain; charset=us-ascii\r\n\r\n${TEXT}`;
  for (let level = DEPTH; level >= 1; level--) {
    const headers = level === 1 ? `From: sender@example.com\r\nTo: rcpt@example.com\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n` : '';
    message = `${headers}Content-Type: multipart/mixed; boundary="level-${level}"\r\n\r\n--level-${level}\r\n${message}\r\n--level-${level}--\r\n`;
  }
  return Buffer.from(message, 'latin1');
}

/** Peak resident memory of this process so far, in bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

let kotak: RunningKotak;
const ids: string[] = [];
let rawSize = 0;
let baseline = 0;

beforeAll(async () => {
  kotak = await withKotak();
  for (const subject of ['nested one', 'nested two']) {
    const raw = nestedMessage(subject);
    rawSize = raw.length;
    ids.push(queuedId(await sendRaw(kotak.smtpPort, raw)));
  }
  // Intake (the parser worker included) is done: what follows is the API's own cost.
  baseline = peakRss();
});

afterAll(async () => {
  await kotak?.stop();
});

async function fetchAll(path: string): Promise<{ status: number; bytes: number; text: string }> {
  const res = await fetch(`${kotak.url}${path}`);
  const text = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(text), text };
}

describe('answers stay bounded for messages nested 31 deep (5 MB each)', () => {
  it('MailHog pages (/api/v2/messages, /api/v2/search) cut the bodies and say so', async () => {
    for (const path of ['/api/v2/messages', '/api/v2/messages?limit=250', '/api/v2/search?kind=from&query=sender', '/api/v2/search?kind=containing&query=nested']) {
      const { status, bytes, text } = await fetchAll(path);
      expect(status, path).toBe(200);
      // 512 KB of bodies a message, plus headers and JSON escaping.
      expect(bytes, path).toBeLessThan(2 * 1.5 * MB);
      const page = JSON.parse(text) as { total: number; count: number; items: { ID: string; Truncated?: boolean; Content: { Size: number } }[] };
      expect(page, path).toMatchObject({ total: 2, count: 2 });
      expect(page.items.map((m) => m.ID).sort()).toEqual([...ids].sort());
      for (const item of page.items) {
        expect(item.Truncated).toBe(true);
        expect(item.Content.Size).toBe(rawSize);
      }
    }
  });

  it('a single MailHog message holds each byte at most about three times, with the text whole', async () => {
    const { status, bytes, text } = await fetchAll(`/api/v1/messages/${ids[0]}`);
    expect(status).toBe(200);
    expect(bytes).toBeLessThan(3 * rawSize + 4 * MB);
    const message = JSON.parse(text) as { MIME: { Parts: { Body: string; MIME: unknown }[] } };
    let part = message.MIME.Parts[0]!;
    for (let level = 2; level <= DEPTH; level++) part = (part.MIME as { Parts: (typeof part)[] }).Parts[0]!;
    expect(part.Body).toBe(TEXT);
  });

  it("Kotak's own list and Mailpit's lists are summaries, whatever the bodies", async () => {
    for (const path of ['/api/messages', '/api/messages?query=nested', '/api/v1/messages', '/api/v1/search?query=nested']) {
      const { status, bytes } = await fetchAll(path);
      expect(status, path).toBe(200);
      expect(bytes, path).toBeLessThan(64 * 1024);
    }
  });

  it('none of it grew the process by more than a few copies of a message', () => {
    // MailHog's shape built whole took 2 GB here for the page alone.
    expect(peakRss() - baseline).toBeLessThan(300 * MB);
  });
});
