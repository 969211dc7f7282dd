/**
 * Issue 15: messages over the structure limits (--max-mime-depth, --max-mime-parts) are kept raw,
 * unparsed, and their part routes answered 500. Each part route now says why, in its API's shape:
 * Kotak's JSON error, Mailpit's plain text, MailHog's (Kotak's JSON) error, with status 422.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

function deepMessage(depth: number): Buffer {
  const open = Array.from({ length: depth }, (_, i) => `Content-Type: multipart/mixed; boundary="d${i}"\r\n\r\n--d${i}\r\n`).join('');
  const close = Array.from({ length: depth }, (_, i) => `\r\n--d${depth - 1 - i}--`).join('');
  return Buffer.from(`From: a@example.com\r\nTo: b@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${open}Content-Type: text/plain\r\nContent-Disposition: attachment; filename="x.txt"\r\n\r\ninnermost${close}\r\n`, 'latin1');
}

function wideMessage(parts: number): Buffer {
  const body = Array.from({ length: parts }, (_, i) => `--w\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="p${i}.txt"\r\n\r\npart ${i}\r\n`).join('');
  return Buffer.from(`From: a@example.com\r\nTo: b@example.com\r\nSubject: wide\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="w"\r\n\r\n${body}--w--\r\n`, 'latin1');
}

let kotak: RunningKotak;
const messages: { name: string; id: string; limit: RegExp }[] = [];

beforeAll(async () => {
  kotak = await withKotak();
  for (const [name, raw, limit] of [
    ['5,000 levels deep', deepMessage(5000), /max-mime-depth/],
    ['50,000 parts', wideMessage(50_000), /max-mime-parts/],
  ] as const) {
    messages.push({ name, id: queuedId(await sendRaw(kotak.smtpPort, raw)), limit });
  }
});

afterAll(async () => {
  await kotak?.stop();
});

describe('parts of a message kept unparsed', () => {
  it('are stored raw with the limit named', async () => {
    for (const { name, id, limit } of messages) {
      const { status, body } = await getJson(kotak, `/api/messages/${id}`);
      expect(status, name).toBe(200);
      expect(body.parseError, name).toMatch(limit);
    }
  });

  it("Kotak's /parts/N answers 422 with a JSON reason", async () => {
    for (const { name, id, limit } of messages) {
      for (const part of ['1', '1.1', '2']) {
        const { status, body } = await getJson(kotak, `/api/messages/${id}/parts/${part}`);
        expect(status, `${name} ${part}`).toBe(422);
        expect(body.error.code).toBe('message_unparsed');
        expect(body.error.message).toMatch(limit);
        expect(body.error.message).toContain(`/api/messages/${id}/raw`);
      }
    }
  });

  it("Mailpit's /part/N answers 422 in plain text", async () => {
    for (const { name, id, limit } of messages) {
      const res = await fetch(`${kotak.url}/api/v1/message/${id}/part/1`);
      expect(res.status, name).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(limit);
    }
  });

  it("MailHog's part download answers 422 with the reason", async () => {
    for (const { name, id, limit } of messages) {
      const { status, body } = await getJson(kotak, `/api/v1/messages/${id}/mime/part/0/download`);
      expect(status, name).toBe(422);
      expect(body.error.code).toBe('message_unparsed');
      expect(body.error.message).toMatch(limit);
    }
  });

  it("Mailpit's message view still answers, without checksums for parts it cannot read", async () => {
    for (const { name, id } of messages) {
      const res = await fetch(`${kotak.url}/api/v1/message/${id}`);
      expect(res.status, name).toBe(200);
    }
  });
});
