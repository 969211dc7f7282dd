/**
 * MailHog API compatibility: the real `mailhog` npm client (4.16) against Kotak in-process, plus
 * direct checks of the JSON shapes and of the MIME splitting that builds them.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import mailhog from 'mailhog';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openAccess } from '../../src/api/access.js';
import type { CompatDeps } from '../../src/compat/deps.js';
import { mountMailhogApi } from '../../src/compat/mailhog/index.js';
import { mailhogMessageJson, MESSAGE_LIMITS, PAGE_LIMITS, type BodyLimits } from '../../src/compat/mailhog/shapes.js';
import { pageWindow } from '../../src/compat/mailhog/search.js';
import { createEventBus } from '../../src/events.js';
import { createMailboxService } from '../../src/mailbox/service.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { getJson, LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

/** A MailHog Content as served (the client's own typings describe only what its getters add). */
interface Part {
  Headers: Record<string, string[]>;
  Body: string;
  Size: number;
  MIME: { Parts: Part[] } | null;
}

interface Path {
  Relays: string[] | null;
  Mailbox: string;
  Domain: string;
  Params: string;
}

interface Message {
  ID: string;
  From: Path;
  To: Path[];
  Content: Part;
  Created: string;
  MIME: { Parts: Part[] } | null;
  Raw: { From: string; To: string[]; Data: string; Helo: string };
}

interface Page {
  total: number;
  count: number;
  start: number;
  items: Message[];
}

const ENVELOPE = { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], clientAddress: '127.0.0.1', heloName: 'client.test', user: null, tls: false };

/** The JSON that the routes stream for one message, parsed. */
function shaped(raw: Buffer, limits: BodyLimits): Message & { Truncated?: true } {
  return JSON.parse([...mailhogMessageJson({ id: 'X', receivedAt: '2026-01-01T00:00:00.000Z', envelope: ENVELOPE, raw }, limits)].join('')) as Message & { Truncated?: true };
}

// Long enough that quoted-printable needs soft line breaks, with a hard one too.
const TEXT = `Grüße aus Köln: ${'schön '.repeat(20)}\nZweite Zeile, ça va.`;
const HTML = '<p>Grüße <b>aus</b> Köln — ça va?</p>';
const ATTACHMENT = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const CYRILLIC = 'Привет, мир! Это письмо в base64.';

describe('MailHog API with the mailhog npm client', () => {
  let kotak: RunningKotak;
  let client: ReturnType<typeof mailhog>;
  let smtp: ReturnType<typeof transport>;

  const send = async (mail: Parameters<typeof smtp.sendMail>[0]): Promise<string> => queuedId((await smtp.sendMail(mail)).response);
  const api = <T = Page>(path: string, init?: RequestInit) => getJson<T>(kotak, path, init);

  beforeAll(async () => {
    kotak = await withKotak();
    client = mailhog({ host: '127.0.0.1', port: kotak.httpPort });
    smtp = transport(kotak, { name: 'client.test' });
  });
  afterAll(async () => {
    smtp.close();
    await kotak.stop();
  });
  beforeEach(async () => {
    expect((await fetch(`${kotak.url}/api/messages`, { method: 'DELETE' })).status).toBe(200);
  });

  const sendMixed = () =>
    send({
      from: '"Zoë" <zoe@example.com>',
      to: 'bob@example.com',
      cc: 'carol@example.com',
      subject: 'Grüße',
      text: TEXT,
      html: HTML,
      attachments: [{ filename: 'bytes.bin', content: ATTACHMENT }],
    });

  it('messages(): MailHog page and message shapes, built from the raw bytes and the envelope', async () => {
    const id = await sendMixed();
    const result = (await client.messages())!;
    expect(result).toMatchObject({ total: 1, count: 1, start: 0 });
    const mail = result.items[0]! as unknown as Message & { subject: string; from: string; to: string; cc: string };
    expect(mail.ID).toBe(id);

    // Envelope, as MailHog records it.
    expect(mail.From).toEqual({ Relays: null, Mailbox: 'zoe', Domain: 'example.com', Params: '' });
    expect(mail.To.map((p) => `${p.Mailbox}@${p.Domain}`)).toEqual(['bob@example.com', 'carol@example.com']);
    expect(mail.Raw).toMatchObject({ From: 'zoe@example.com', To: ['bob@example.com', 'carol@example.com'], Helo: 'client.test' });
    const raw = await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).text();
    expect(mail.Raw.Data).toBe(raw);
    expect(mail.Content.Size).toBe(Buffer.byteLength(raw));
    expect(Date.parse(mail.Created)).toBeGreaterThan(Date.now() - 60_000);

    // Headers stay encoded, as MailHog kept them; the client's getters decode them.
    expect(mail.Content.Headers.Subject![0]).toMatch(/^=\?UTF-8\?/i);
    expect(mail.Content.Headers['Return-Path']).toEqual(['<zoe@example.com>']);
    expect(mail.subject).toBe('Grüße');
    expect(mail.from).toBe('Zoë <zoe@example.com>');
    expect(mail.to).toBe('bob@example.com');
    expect(mail.cc).toBe('carol@example.com');

    // multipart/mixed → [multipart/alternative → [text, html], attachment]; MailHog keeps the
    // top level's parts in MIME and leaves Content.MIME null.
    expect(mail.Content.MIME).toBeNull();
    const [alternative, attachment] = mail.MIME!.Parts;
    expect(mail.MIME!.Parts).toHaveLength(2);
    expect(alternative!.Headers['Content-Type']![0]).toMatch(/^multipart\/alternative;/);
    const [text, html] = alternative!.MIME!.Parts;
    expect(text!.Headers['Content-Transfer-Encoding']).toEqual(['quoted-printable']);
    expect(text!.Body).toMatch(/=\r\n/); // soft line breaks: the body is still encoded
    expect(client.decode(text!.Body, 'quoted-printable', 'utf-8')).toBe(TEXT.replace(/\n/g, '\r\n'));
    expect(client.decode(html!.Body, html!.Headers['Content-Transfer-Encoding']![0], 'utf-8')).toBe(HTML);

    const attachments = (mail as unknown as { attachments: { name: string; type: string; encoding: string; Body: string }[] }).attachments;
    expect(attachments).toHaveLength(1);
    expect(attachments[0]).toMatchObject({ name: 'bytes.bin', encoding: 'base64' });
    expect(attachments[0]!.type).toMatch(/^application\/octet-stream/);
    expect(Buffer.from(attachments[0]!.Body, 'base64')).toEqual(ATTACHMENT);
    expect(attachment!.Body).toBe(attachments[0]!.Body);

    // The client looks for text/html among the top-level parts only, so for a nested alternative
    // it finds none: the same answer MailHog gives it.
    expect((mail as unknown as { text?: string }).text).toBeUndefined();
  });

  it('the text and html getters decode quoted-printable and base64 bodies to what was sent', async () => {
    await send({ from: 'a@example.com', to: 'b@example.com', subject: 'alternative', text: TEXT, html: HTML });
    await send({ from: 'a@example.com', to: 'b@example.com', subject: 'base64 only', text: CYRILLIC, textEncoding: 'base64' });
    const { items } = (await client.messages())!;
    const [single, alternative] = items as unknown as (Message & { subject: string; text: string; html?: string })[];

    expect(single!.subject).toBe('base64 only');
    expect(single!.MIME).toBeNull();
    expect(single!.Content.Headers['Content-Transfer-Encoding']).toEqual(['base64']);
    expect(single!.Content.Body).not.toContain('Привет');
    expect(single!.text).toBe(CYRILLIC);
    expect(single!.html).toBeUndefined();

    expect(alternative!.subject).toBe('alternative');
    expect(alternative!.text).toBe(TEXT.replace(/\n/g, '\r\n'));
    expect(alternative!.html).toBe(HTML);
  });

  describe('search', () => {
    let toBob: string;
    let fromBob: string;
    let newsletter: string;
    beforeEach(async () => {
      toBob = await send({ from: 'alice@example.com', to: 'Bob Builder <bob@example.com>', cc: 'carol@example.com', bcc: 'dave@example.com', subject: 'Quarterly invoice', text: 'Please pay invoice 4711.' });
      fromBob = await send({ from: 'Bob <bob@example.com>', to: 'erin@example.com', subject: 'Lunch?', text: 'Pizza at noon.' });
      newsletter = await send({ from: 'news@example.org', to: 'bob@example.com', subject: 'Grüße vom Newsletter', text: 'Привет', textEncoding: 'base64' });
    });

    const found = async (kind: string, query: string): Promise<string[]> => {
      const result = (await client.search(query, kind))!;
      expect(result.count).toBe(result.items.length);
      return result.items.map((m) => m.ID);
    };

    it('kind=from matches the sender, newest first', async () => {
      expect(await found('from', 'bob@example.com')).toEqual([fromBob]);
      expect(await found('from', 'EXAMPLE.')).toEqual([newsletter, fromBob, toBob]);
      expect((await client.latestFrom('alice'))!.ID).toBe(toBob);
    });

    it('kind=to matches To, Cc and envelope-only (Bcc) recipients, not the sender', async () => {
      expect(await found('to', 'bob@example.com')).toEqual([newsletter, toBob]);
      expect(await found('to', 'builder')).toEqual([toBob]);
      expect(await found('to', 'carol')).toEqual([toBob]);
      expect(await found('to', 'dave@example.com')).toEqual([toBob]);
      expect(await found('to', 'alice')).toEqual([]);
      expect((await client.latestTo('bob@example.com'))!.ID).toBe(newsletter);
      expect((await client.latestTo('erin'))!.ID).toBe(fromBob);
    });

    it('kind=to pages and counts exactly when some matches are sender-only', async () => {
      const first = (await client.search('bob', 'to', 0, 1))!;
      expect(first).toMatchObject({ total: 2, count: 1, start: 0 });
      expect(first.items[0]!.ID).toBe(newsletter);
      const second = (await client.search('bob', 'to', 1, 1))!;
      expect(second).toMatchObject({ total: 2, count: 1, start: 1 });
      expect(second.items[0]!.ID).toBe(toBob);
      expect(await client.search('bob', 'to', 2, 1)).toMatchObject({ total: 2, count: 0, items: [] });
    });

    it('kind=containing finds words in decoded subjects and bodies (including base64) and addresses', async () => {
      expect(await found('containing', 'invoice 4711')).toEqual([toBob]);
      expect(await found('containing', 'pizza')).toEqual([fromBob]);
      expect(await found('containing', 'grüße')).toEqual([newsletter]);
      expect(await found('containing', 'привет')).toEqual([newsletter]);
      expect(await found('containing', 'erin@example.com')).toEqual([fromBob]);
      expect(await found('containing', 'nothing-like-this')).toEqual([]);
      expect((await client.latestContaining('quarterly'))!.ID).toBe(toBob);
      expect(await client.latestContaining('absent')).toBe(0); // the client's "none": result.count
    });

    it('refuses an unknown kind, an empty query or one with a NUL character', async () => {
      expect((await api('/api/v2/search?kind=subject&query=x')).status).toBe(400);
      const empty = await api<{ error: { code: string } }>('/api/v2/search?kind=to&query=');
      expect(empty.status).toBe(400);
      expect(empty.body.error.code).toBe('invalid_request');
      for (const kind of ['from', 'to', 'containing']) {
        const nul = await api<{ error: { code: string } }>(`/api/v2/search?kind=${kind}&query=${encodeURIComponent('bob\0x')}`);
        expect(nul.status, kind).toBe(400);
        expect(nul.body.error.code).toBe('invalid_query');
      }
    });
  });

  it('deleteMessage and deleteAll delete, answer an empty 200 and tell the web inbox', async () => {
    const first = await send({ from: 'a@example.com', to: 'b@example.com', subject: 'one', text: '1' });
    const second = await send({ from: 'a@example.com', to: 'b@example.com', subject: 'two', text: '2' });
    const live = await LiveClient.connect(kotak);
    try {
      const one = await client.deleteMessage(first);
      expect(one.statusCode).toBe(200);
      expect((await live.next('message:deleted')).data.ids).toEqual([first]);
      expect((await client.messages())!.items.map((m) => m.ID)).toEqual([second]);

      const missing = await api<{ error: { code: string } }>(`/api/v1/messages/${first}`, { method: 'DELETE' });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');

      // A body asks for some messages only (Mailpit's form of this path): never delete-all here.
      const some = await fetch(`${kotak.url}/api/v1/messages`, { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ IDs: ['NOPE'] }) });
      await some.arrayBuffer();
      expect((await client.messages())!.items.map((m) => m.ID)).toEqual([second]);

      const all = await client.deleteAll();
      expect(all.statusCode).toBe(200);
      await live.next('messages:cleared');
      expect(await client.messages()).toMatchObject({ total: 0, count: 0, start: 0, items: [] });
    } finally {
      live.close();
    }
  });

  describe('over plain HTTP', () => {
    it('pages /api/v2/messages by start and limit, newest first, as MailHog reads them', async () => {
      const ids: string[] = [];
      for (const n of [1, 2, 3]) ids.push(await send({ from: 'a@example.com', to: 'b@example.com', subject: `n${n}`, text: `${n}` }));
      const middle = await api('/api/v2/messages?start=1&limit=1');
      expect(middle.status).toBe(200);
      expect(middle.headers.get('content-type')).toMatch(/^application\/json/);
      expect(middle.body).toMatchObject({ total: 3, count: 1, start: 1 });
      expect(middle.body.items.map((m) => m.ID)).toEqual([ids[1]]);
      // Anything but a positive integer means the default, as in MailHog.
      const defaults = await api('/api/v2/messages?start=-4&limit=zero');
      expect(defaults.body).toMatchObject({ total: 3, count: 3, start: 0 });
      expect(defaults.body.items.map((m) => m.ID)).toEqual([...ids].reverse());
      expect((await api('/api/v2/messages?start=3')).body).toMatchObject({ total: 3, count: 0, items: [] });
    });

    it('GET /api/v1/messages/{id} is the same message as in the list; unknown ids are 404', async () => {
      const id = await sendMixed();
      const one = await api<Message>(`/api/v1/messages/${id}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual((await api('/api/v2/messages')).body.items[0]);
      expect(Object.keys(one.body)).toEqual(['ID', 'From', 'To', 'Content', 'Created', 'MIME', 'Raw']);
      expect(Object.keys(one.body.Content)).toEqual(['Headers', 'Body', 'Size', 'MIME']);
      const missing = await api<{ error: { code: string } }>('/api/v1/messages/NOPE');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
    });

    it('downloads the raw message and an attachment part', async () => {
      const id = await sendMixed();
      const download = await fetch(`${kotak.url}/api/v1/messages/${id}/download`);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('message/rfc822');
      expect(download.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${id}\\.eml"`));
      const raw = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
      expect(Buffer.from(await download.arrayBuffer())).toEqual(raw);

      const part = await fetch(`${kotak.url}/api/v1/messages/${id}/mime/part/1/download`);
      expect(part.status).toBe(200);
      expect(part.headers.get('content-disposition')).toMatch(/^attachment; filename="bytes\.bin"/);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(ATTACHMENT);
      // Part 0 is the text/HTML alternative, not an attachment.
      expect((await fetch(`${kotak.url}/api/v1/messages/${id}/mime/part/0/download`)).status).toBe(404);
      expect((await fetch(`${kotak.url}/api/v1/messages/NOPE/download`)).status).toBe(404);
    });
  });
});

describe('MailHog MIME splitting (pure)', () => {
  const content = (text: string): Part => {
    const message = shaped(Buffer.from(text, 'utf8'), MESSAGE_LIMITS);
    const { ['Return-Path']: _added, ...headers } = message.Content.Headers;
    return { Headers: headers, Body: message.Content.Body, Size: message.Content.Size, MIME: message.MIME };
  };

  it('keeps repeated headers in order under the first spelling, joins folds as MailHog does', () => {
    const c = content('Received: one\r\nreceived: two\r\nSubject: a\r\n\tb\r\n__proto__: x\r\nnot a header\r\n\r\nbody');
    expect(c.Headers.Received).toEqual(['one', 'two']);
    expect(c.Headers.Subject).toEqual(['a\tb']);
    expect(Object.hasOwn(c.Headers, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(c.Headers)).toBe(Object.prototype);
    expect(c).toMatchObject({ Body: 'body', MIME: null, Size: Buffer.byteLength('Received: one\r\nreceived: two\r\nSubject: a\r\n\tb\r\n__proto__: x\r\nnot a header\r\n\r\nbody') });
  });

  it('splits on delimiter lines only, keeps part bodies exact, accepts bare LF', () => {
    const body = [
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      'preamble --b not a delimiter',
      '--b',
      'Content-Type: text/plain',
      '',
      'first',
      '--bb is not the boundary',
      '',
      '--b  ',
      '',
      'no headers',
      '--b--',
      'epilogue',
    ].join('\n');
    const parts = content(body).MIME!.Parts;
    expect(parts.map((p) => p.Body)).toEqual(['first\n--bb is not the boundary\n', 'no headers']);
    expect(parts[0]!.Headers).toEqual({ 'Content-Type': ['text/plain'] });
    expect(parts[1]!.Headers).toEqual({});
    expect(parts[0]!.Size).toBe(Buffer.byteLength('Content-Type: text/plain\n\nfirst\n--bb is not the boundary\n'));
  });

  it('nests multiparts and tolerates a missing closing delimiter or boundary', () => {
    const nested = content(
      'Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\nA\r\n--inner--\r\n--outer\r\n\r\nB',
    );
    expect(nested.MIME!.Parts.map((p) => p.Body.slice(0, 7))).toEqual(['--inner', 'B']);
    expect(nested.MIME!.Parts[0]!.MIME!.Parts.map((p) => p.Body)).toEqual(['A']);
    expect(content('Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nA').MIME).toEqual({ Parts: [] });
    expect(content('Subject: no blank line')).toMatchObject({ Headers: {}, Body: 'Subject: no blank line' });
  });

  /** A text part inside `depth` nested multipart/mixed, the shape of issue 15's out-of-memory message. */
  const nested = (depth: number, text: string): Buffer => {
    let message = `Content-Type: text/plain; charset=utf-8\r\n\r\n${text}`;
    for (let level = depth; level >= 1; level--) {
      const headers = level === 1 ? 'From: a@example.test\r\nSubject: nested\r\n' : '';
      message = `${headers}Content-Type: multipart/mixed; boundary="b${level}"\r\n\r\n--b${level}\r\n${message}\r\n--b${level}--\r\n`;
    }
    return Buffer.from(message, 'utf8');
  };
  const deepest = (message: Message): Part => {
    let part = message.MIME!.Parts[0]!;
    while (part.MIME) part = part.MIME.Parts[0]!;
    return part;
  };

  it('a single message repeats a nested part whole only where it is a part: multipart Bodies are cut to 64 KB', () => {
    const text = 'abcdefghij'.repeat(100_000); // 1 MB
    const raw = nested(31, text);
    const json = [...mailhogMessageJson({ id: 'X', receivedAt: '2026-01-01T00:00:00.000Z', envelope: ENVELOPE, raw }, MESSAGE_LIMITS)].join('');
    // MailHog's own answer carries the text 33 times (Raw.Data, Content.Body, each multipart's Body).
    expect(json.length).toBeLessThan(2 * raw.length + 32 * 64 * 1024 + 64 * 1024);
    const message = JSON.parse(json) as Message & { Truncated?: true };
    expect(deepest(message).Body).toBe(text);
    expect(message.Raw.Data).toBe(raw.toString('utf8'));
    expect(message.Content.Body.length).toBe(64 * 1024);
    expect(message.Content.Size).toBe(raw.length);
    expect(message.Truncated).toBe(true);
  });

  it('a page cuts every Body to 64 KB and a message to 512 KB, on a character boundary, and says so', () => {
    const text = 'grüße '.repeat(200_000);
    const message = shaped(nested(31, text), PAGE_LIMITS);
    expect(message.Truncated).toBe(true);
    const bodies = [message.Content.Body, message.Raw.Data];
    for (let part: Part | undefined = message.MIME!.Parts[0]; part; part = part.MIME?.Parts[0]) bodies.push(part.Body);
    const bytes = bodies.map((b) => Buffer.byteLength(b));
    expect(Math.max(...bytes)).toBeLessThanOrEqual(64 * 1024);
    expect(bytes.reduce((a, b) => a + b)).toBeLessThanOrEqual(512 * 1024);
    expect(bodies.join('')).not.toContain('\ufffd');
    expect(deepest(message).Size).toBe(Buffer.byteLength(`Content-Type: text/plain; charset=utf-8\r\n\r\n${text}`));
  });

  it('cuts nothing of ordinary mail, in a page or alone, and adds no Truncated field', () => {
    const raw = nested(3, 'short text');
    const alone = shaped(raw, MESSAGE_LIMITS);
    expect(shaped(raw, PAGE_LIMITS)).toEqual(alone);
    expect(Object.keys(alone)).toEqual(['ID', 'From', 'To', 'Content', 'Created', 'MIME', 'Raw']);
    expect(deepest(alone).Body).toBe('short text');
  });

  it('splits at most 1000 parts of a message', () => {
    const parts = Array.from({ length: 3000 }, (_, i) => `--b\r\n\r\npart ${i}\r\n`).join('');
    const message = shaped(Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`), MESSAGE_LIMITS);
    expect(message.MIME!.Parts).toHaveLength(1000);
    expect(message.Truncated).toBe(true);
  });

  it('reads start and limit as MailHog does', () => {
    expect(pageWindow(undefined, undefined)).toEqual({ start: 0, limit: 50 });
    expect(pageWindow('10', '1000')).toEqual({ start: 10, limit: 250 });
    expect(pageWindow('0', '0')).toEqual({ start: 0, limit: 50 });
    expect(pageWindow('1e3', '5x')).toEqual({ start: 0, limit: 50 });
  });
});

describe('DELETE /api/v1/messages, a path MailHog and Mailpit share', () => {
  it('deletes all for a request without a body and passes one with a body to the next route', async () => {
    const log = pino({ level: 'silent' });
    const store = await openSqliteStore(':memory:', { log });
    const bus = createEventBus((err) => {
      throw err;
    });
    const cleared: unknown[] = [];
    bus.on('messages:cleared', (data) => cleared.push(data));
    const app = new OpenAPIHono();
    // Every request's mailbox scope, as Kotak's app sets it (here without authentication: all).
    app.use('*', openAccess());
    // This route uses only the store and the mailbox service.
    mountMailhogApi(app, { store, bus, mailboxes: createMailboxService({ store, bus }), log } as unknown as CompatDeps);
    // Stands in for Mailpit's handler of the same path, mounted later.
    app.delete('/api/v1/messages', async (c) => c.text(`next route got ${await c.req.text()}`));
    try {
      const withIds = await app.request('/api/v1/messages', { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: '{"IDs":["A"]}' });
      expect(await withIds.text()).toBe('next route got {"IDs":["A"]}');
      expect(cleared).toEqual([]);

      const bare = await app.request('/api/v1/messages', { method: 'DELETE' });
      expect(bare.status).toBe(200);
      expect(await bare.text()).toBe('');
      expect(cleared).toEqual([{}]);
    } finally {
      await store.close();
    }
  });
});
