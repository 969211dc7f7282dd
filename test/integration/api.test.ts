/** The REST API over real HTTP: listing, paging, search, updates, deletes, errors, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

interface Summary {
  id: string;
  subject: string;
  read: boolean;
}

async function ids(kotak: RunningKotak, query: string): Promise<string[]> {
  const { status, body } = await getJson(kotak, `/api/messages?limit=1000&query=${encodeURIComponent(query)}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return (body.messages as Summary[]).map((m) => m.subject);
}

describe('search syntax', () => {
  let kotak: RunningKotak;
  beforeAll(async () => {
    kotak = await withKotak();
    const t = transport(kotak, { pool: true });
    await t.sendMail({ from: 'Shop <orders@shop.example>', to: 'ann@example.com', subject: 'Order confirmed', text: 'Your order 1234 is confirmed. Track it online.' });
    await t.sendMail({ from: 'news@letters.example', to: 'ben@example.com', cc: 'ann@example.com', subject: 'Weekly newsletter', html: '<h1>Déjà vu</h1><p>Unsubscribe anytime</p>' });
    await t.sendMail({
      from: 'billing@shop.example', to: 'carl@example.com', bcc: 'hidden@example.com', replyTo: 'support@shop.example', subject: 'Invoice March',
      text: 'See attachment', messageId: '<invoice-42@shop.example>', attachments: [{ filename: 'invoice-march.pdf', content: Buffer.alloc(4096, 1) }],
    });
    t.close();
  });
  afterAll(() => kotak.stop());

  it('ANDs bare words, matching word prefixes in any field', async () => {
    expect(await ids(kotak, 'order confirmed')).toEqual(['Order confirmed']);
    expect(await ids(kotak, 'confirm')).toEqual(['Order confirmed']);
    expect(await ids(kotak, 'ORDER invoice')).toEqual([]);
  });

  it('matches quoted phrases exactly, HTML text and accents-insensitively', async () => {
    expect(await ids(kotak, '"order 1234"')).toEqual(['Order confirmed']);
    expect(await ids(kotak, '"1234 order"')).toEqual([]);
    expect(await ids(kotak, 'unsubscribe')).toEqual(['Weekly newsletter']);
    expect(await ids(kotak, 'deja')).toEqual(['Weekly newsletter']);
  });

  it('negates with - and !', async () => {
    expect((await ids(kotak, '-order')).sort()).toEqual(['Invoice March', 'Weekly newsletter']);
    expect((await ids(kotak, '!from:shop.example')).sort()).toEqual(['Weekly newsletter']);
  });

  it('filters by address fields as substrings, including envelope-only Bcc', async () => {
    expect(await ids(kotak, 'to:ann@example.com')).toEqual(['Order confirmed']);
    expect(await ids(kotak, 'cc:ann@')).toEqual(['Weekly newsletter']);
    expect(await ids(kotak, 'bcc:hidden')).toEqual(['Invoice March']);
    expect(await ids(kotak, 'from:Shop')).toEqual(expect.arrayContaining(['Order confirmed', 'Invoice March']));
    expect(await ids(kotak, 'reply-to:support@')).toEqual(['Invoice March']);
    expect((await ids(kotak, 'addressed:ann@example.com')).sort()).toEqual(['Order confirmed', 'Weekly newsletter']);
  });

  it('filters by subject, message-id, attachment name and has:attachment', async () => {
    expect(await ids(kotak, 'subject:"weekly news"')).toEqual(['Weekly newsletter']);
    expect(await ids(kotak, 'message-id:<invoice-42@shop.example>')).toEqual(['Invoice March']);
    expect(await ids(kotak, 'invoice-march.pdf')).toEqual(['Invoice March']);
    expect(await ids(kotak, 'has:attachment')).toEqual(['Invoice March']);
  });

  it('filters by read state, dates and sizes', async () => {
    const [first] = (await getJson(kotak, '/api/messages?query=subject:order')).body.messages as Summary[];
    await getJson(kotak, `/api/messages/${first!.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"read":true}' });
    expect(await ids(kotak, 'is:read')).toEqual(['Order confirmed']);
    expect((await ids(kotak, 'is:unread')).sort()).toEqual(['Invoice March', 'Weekly newsletter']);
    expect(await ids(kotak, 'before:2000-01-01')).toEqual([]);
    expect(await ids(kotak, 'after:2000-01-01')).toHaveLength(3);
    expect(await ids(kotak, 'larger:4kb')).toEqual(['Invoice March']);
    expect(await ids(kotak, 'smaller:4kb')).toHaveLength(2);
  });

  it('answers an unknown operator or a bad value with 400 and the reason', async () => {
    for (const query of ['foo:bar', 'is:starred', 'larger:huge', 'before:someday', '"unterminated', 'invoice\0', 'subject:order\0x']) {
      const { status, body } = await getJson(kotak, `/api/messages?query=${encodeURIComponent(query)}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe('invalid_query');
      expect(body.error.message.length).toBeGreaterThan(10);
    }
  });
});

describe('messages resource', () => {
  let kotak: RunningKotak;
  const sent: string[] = [];
  beforeAll(async () => {
    kotak = await withKotak();
    const t = transport(kotak, { pool: true });
    for (let i = 0; i < 25; i++) {
      const info = await t.sendMail({ from: 'a@example.com', to: `user${i}@example.com`, subject: `Message ${i} ${i % 2 ? 'odd' : 'even'}`, text: `number ${i}` });
      sent.push(queuedId(info.response));
    }
    t.close();
  });
  afterAll(() => kotak.stop());

  it('pages newest first with an opaque cursor, each message exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { body }: { body: { total: number; messages: Summary[]; nextCursor: string | null } } = await getJson(kotak, `/api/messages?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(body.total).toBe(25);
      seen.push(...(body.messages as Summary[]).map((m) => m.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...sent].reverse());
  });

  it('pages within a search and reports the matching total', async () => {
    const { body } = await getJson(kotak, '/api/messages?limit=5&query=odd');
    expect(body.total).toBe(12);
    expect(body.messages).toHaveLength(5);
    const next = await getJson(kotak, `/api/messages?limit=5&query=odd&cursor=${body.nextCursor}`);
    expect(next.body.messages.every((m: Summary) => m.subject.endsWith('odd'))).toBe(true);
  });

  it('jumps into the middle of a result with start, alone or after a cursor, and the page links on', async () => {
    const newestFirst = [...sent].reverse();
    const { body } = await getJson(kotak, '/api/messages?limit=5&start=10');
    expect(body.total).toBe(25);
    expect(body.messages.map((m: Summary) => m.id)).toEqual(newestFirst.slice(10, 15));
    const older = await getJson(kotak, `/api/messages?limit=5&cursor=${body.nextCursor}`);
    expect(older.body.messages.map((m: Summary) => m.id)).toEqual(newestFirst.slice(15, 20));
    const newer = await getJson(kotak, `/api/messages?limit=5&after=${body.prevCursor}`);
    expect(newer.body.messages.map((m: Summary) => m.id)).toEqual(newestFirst.slice(5, 10));
    const fromCursor = await getJson(kotak, `/api/messages?limit=3&start=2&cursor=${body.nextCursor}`);
    expect(fromCursor.body.messages.map((m: Summary) => m.id)).toEqual(newestFirst.slice(17, 20));
    const past = await getJson(kotak, '/api/messages?limit=5&start=25');
    expect(past.body).toMatchObject({ total: 25, messages: [], nextCursor: null });
    const withAfter = await getJson(kotak, `/api/messages?start=1&after=${body.prevCursor}`);
    expect(withAfter.status).toBe(400);
  });

  it('rejects bad paging parameters with 400 JSON', async () => {
    for (const q of ['limit=0', 'limit=abc', 'limit=100000', 'cursor=xyz', 'start=-1', 'start=x']) {
      const { status, body } = await getJson(kotak, `/api/messages?${q}`);
      expect(status, q).toBe(400);
      expect(body.error.code).toMatch(/^invalid_/);
    }
  });

  it('marks read and unread with PATCH, and validates the body', async () => {
    const id = sent[0]!;
    const patch = (body: string) => getJson(kotak, `/api/messages/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body });
    expect((await patch('{"read":true}')).body).toMatchObject({ id, read: true });
    expect((await getJson(kotak, '/api/stats')).body).toMatchObject({ total: 25, unread: 24 });
    expect((await patch('{"read":false}')).body.read).toBe(false);
    expect((await patch('{"read":"yes"}')).status).toBe(400);
    expect((await patch('{not json')).status).toBe(400);
    expect((await getJson(kotak, '/api/messages/NOPE', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"read":true}' })).status).toBe(404);
  });

  it('serves the raw source as message/rfc822', async () => {
    const res = await fetch(`${kotak.url}/api/messages/${sent[1]}/raw`);
    expect(res.headers.get('content-type')).toBe('message/rfc822');
    expect(await res.text()).toContain('number 1');
  });

  it('answers unknown ids and routes with 404 JSON', async () => {
    for (const path of ['/api/messages/NOPE', '/api/messages/NOPE/raw', '/api/messages/NOPE/parts/1', '/api/nothing']) {
      const { status, body } = await getJson(kotak, path);
      expect(status, path).toBe(404);
      expect(body.error.code).toBe('not_found');
    }
  });

  it('deletes one, then all matching a query, then everything', async () => {
    expect((await getJson(kotak, `/api/messages/${sent[0]}`, { method: 'DELETE' })).body).toEqual({ deleted: 1 });
    expect((await getJson(kotak, `/api/messages/${sent[0]}`)).status).toBe(404);
    expect((await getJson(kotak, `/api/messages/${sent[0]}`, { method: 'DELETE' })).status).toBe(404);
    expect((await getJson(kotak, `/api/messages?query=odd`, { method: 'DELETE' })).body).toEqual({ deleted: 12 });
    expect((await getJson(kotak, '/api/stats')).body.total).toBe(12);
    expect((await getJson(kotak, `/api/messages?query=${encodeURIComponent('bad:op')}`, { method: 'DELETE' })).status).toBe(400);
    // SQLite would end the LIKE pattern at the NUL: "subject ends in en" would delete every "… even".
    const nul = await getJson(kotak, `/api/messages?query=${encodeURIComponent('subject:en\0zz')}`, { method: 'DELETE' });
    expect(nul.status).toBe(400);
    expect(nul.body.error.code).toBe('invalid_query');
    expect((await getJson(kotak, '/api/messages', { method: 'DELETE' })).body).toEqual({ deleted: 12 });
    expect((await getJson(kotak, '/api/stats')).body).toEqual({ total: 0, unread: 0, size: 0, waiters: 0 });
  });

  it('serves health probes and an OpenAPI document generated from the routes', async () => {
    expect((await getJson(kotak, '/livez')).body).toEqual({ status: 'ok' });
    expect((await getJson(kotak, '/readyz')).body).toEqual({ status: 'ok' });
    const { body } = await getJson(kotak, '/api/openapi.json');
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/api/messages', '/api/messages/{id}', '/api/messages/{id}/raw', '/api/messages/{id}/parts/{partId}', '/api/stats', '/livez', '/readyz']),
    );
    expect(body.components.schemas.MessageSummary.properties).toHaveProperty('hasAttachments');
  });

  it('sends security headers and serves a page at /', async () => {
    const res = await fetch(`${kotak.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('Kotak');
  });
});
