/**
 * GET /api/messages/{id}/parts/{partId}/checksums: the digests of an attachment's decoded bytes,
 * equal to node:crypto's over what was attached, and scoped like every one-message route (a token
 * of w1 asking about a w2 message gets the 404 an unknown id gets). Real SMTP and HTTP on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transport } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';
import { ALL, startScopedKotak, unknownId, W1, type ScopedKotak } from '../helpers/scoped-kotak.js';

let k: ScopedKotak;

beforeAll(async () => {
  k = await startScopedKotak();
});

afterAll(async () => {
  await k?.stop();
});

const digests = (bytes: Buffer) => ({
  md5: createHash('md5').update(bytes).digest('hex'),
  sha1: createHash('sha1').update(bytes).digest('hex'),
  sha256: createHash('sha256').update(bytes).digest('hex'),
});

describe('part checksums', () => {
  it("are MD5, SHA-1 and SHA-256 of the attachment's decoded bytes", async () => {
    const id = k.seeded.w1[0]!;
    const part = (await k.call(ALL, 'GET', `/api/messages/${id}`)).body.attachments[0].id as string;
    const download = await k.call(ALL, 'GET', `/api/messages/${id}/parts/${part}`);
    // The seeded attachment (test/helpers/scoped-kotak.ts), as sent.
    expect(download.text).toBe('attachment bytes');
    const answer = await k.call(W1, 'GET', `/api/messages/${id}/parts/${part}/checksums`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(digests(Buffer.from('attachment bytes')));
  });

  it('hash a large binary attachment exactly as node:crypto does', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 7919) % 251;
    const info = await transport(k.kotak).sendMail({
      from: 'app@example.com',
      to: 'big@w1.inbox.test',
      subject: 'big binary',
      text: 'attached',
      attachments: [{ filename: 'blob.bin', content: bytes, contentType: 'application/octet-stream' }],
    });
    const id = queuedId(info.response);
    const part = (await k.call(ALL, 'GET', `/api/messages/${id}`)).body.attachments[0].id as string;
    expect((await k.call(ALL, 'GET', `/api/messages/${id}/parts/${part}/checksums`)).body).toEqual(digests(bytes));
  });

  it("answer a token scoped to w1 about w2's message exactly as about an unknown id: 404", async () => {
    const target = k.seeded.w2[0]!;
    const part = (await k.call(ALL, 'GET', `/api/messages/${target}`)).body.attachments[0].id as string;
    const hidden = await k.call(W1, 'GET', `/api/messages/${target}/parts/${part}/checksums`);
    const absentId = unknownId();
    const absent = await k.call(W1, 'GET', `/api/messages/${absentId}/parts/${part}/checksums`);
    expect(hidden.status).toBe(404);
    expect(hidden.text.split(target).join('<id>')).toBe(absent.text.split(absentId).join('<id>'));
    // The every-mailbox token does see it.
    expect((await k.call(ALL, 'GET', `/api/messages/${target}/parts/${part}/checksums`)).status).toBe(200);
  });

  it('answer 404 for a part the message does not have and 400 for what is not a part id', async () => {
    const id = k.seeded.w1[0]!;
    expect((await k.call(ALL, 'GET', `/api/messages/${id}/parts/9/checksums`)).status).toBe(404);
    const invalid = await k.call(ALL, 'GET', `/api/messages/${id}/parts/x/checksums`);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid_request');
  });

  it('answer 422 message_unparsed, pointing to the raw source, for a message kept raw over a structure limit', async () => {
    const depth = 5000;
    const open = Array.from({ length: depth }, (_, i) => `Content-Type: multipart/mixed; boundary="d${i}"\r\n\r\n--d${i}\r\n`).join('');
    const close = Array.from({ length: depth }, (_, i) => `\r\n--d${depth - 1 - i}--`).join('');
    const raw = Buffer.from(`From: a@example.com\r\nTo: deep@w1.inbox.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${open}Content-Type: text/plain\r\nContent-Disposition: attachment; filename="x.txt"\r\n\r\ninnermost${close}\r\n`, 'latin1');
    const id = queuedId(await sendRaw(k.kotak.smtpPort, raw, { from: 'a@example.com', to: ['deep@w1.inbox.test'] }));
    const answer = await k.call(ALL, 'GET', `/api/messages/${id}/parts/1/checksums`);
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('message_unparsed');
    expect(answer.body.error.message).toContain(`/api/messages/${id}/raw`);
  });
});
