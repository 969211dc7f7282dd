/**
 * What the HTTP server does for the web inbox, checked over HTTP: caching, security headers,
 * client-side routes, the base path, two-way paging, bulk read marking and the message HTML document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';
import { simpleMessage } from '../helpers/seed.js';

let kotak: RunningKotak;

beforeAll(async () => {
  kotak = await withKotak();
});

afterAll(async () => {
  await kotak?.stop();
});

describe('serving the inbox', () => {
  it('serves the index uncached with a strict CSP, and hashed assets cached for good', async () => {
    const res = await fetch(`${kotak.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]{20,}'/);
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).not.toContain('unsafe');
    const html = await res.text();
    expect(html).toContain('<base href="/">');
    const script = /src="(assets\/main-\w+\.js)"/.exec(html)?.[1];
    const style = /href="(assets\/main-\w+\.css)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    expect(style).toBeTruthy();
    for (const [path, type] of [[script, 'text/javascript'], [style, 'text/css']] as const) {
      const asset = await fetch(`${kotak.url}/${path}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toContain(type);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  it('answers deep links with the app and unknown assets with 404', async () => {
    const deep = await fetch(`${kotak.url}/messages/abc`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="app">');
    expect((await fetch(`${kotak.url}/assets/nope-123.js`)).status).toBe(404);
    expect((await fetch(`${kotak.url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('puts everything under --http-base-path', async () => {
    const mounted = await withKotak({ httpBasePath: 'mail' });
    try {
      expect(mounted.url).toMatch(/\/mail$/);
      const page = await fetch(`${mounted.url}/`);
      expect(await page.text()).toContain('<base href="/mail/">');
      expect((await getJson(mounted, '/api/stats')).status).toBe(200);
      const origin = mounted.url.replace(/\/mail$/, '');
      expect((await fetch(`${origin}/api/stats`)).status).toBe(404);
      const root = await fetch(`${origin}/`, { redirect: 'manual' });
      expect(root.status).toBe(302);
      expect(root.headers.get('location')).toBe('/mail/');
      const live = await LiveClient.connect(mounted);
      await sendRaw(mounted.smtpPort, simpleMessage('Under a base path'));
      expect((await live.next('message:stored')).data.subject).toBe('Under a base path');
      live.ws.close();
    } finally {
      await mounted.stop();
    }
  });
});

describe('paging both ways', () => {
  it('walks from the oldest page up and back down with prevCursor and nextCursor', async () => {
    const paged = await withKotak();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push(queuedId(await sendRaw(paged.smtpPort, simpleMessage(`page ${i}`))));
      const newest = (await getJson(paged, '/api/messages?limit=3')).body;
      expect(newest.messages.map((m: { id: string }) => m.id)).toEqual([ids[6], ids[5], ids[4]]);
      expect(newest.prevCursor).toBeNull();

      const oldest = (await getJson(paged, '/api/messages?limit=3&after=0')).body;
      expect(oldest.messages.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(oldest.nextCursor).toBeNull();
      expect(oldest.prevCursor).not.toBeNull();

      const middle = (await getJson(paged, `/api/messages?limit=3&after=${oldest.prevCursor}`)).body;
      expect(middle.messages.map((m: { id: string }) => m.id)).toEqual([ids[5], ids[4], ids[3]]);
      const top = (await getJson(paged, `/api/messages?limit=3&after=${middle.prevCursor}`)).body;
      expect(top.messages.map((m: { id: string }) => m.id)).toEqual([ids[6]]);
      expect(top.prevCursor).toBeNull();

      const down = (await getJson(paged, `/api/messages?limit=3&cursor=${newest.nextCursor}`)).body;
      expect(down.messages.map((m: { id: string }) => m.id)).toEqual([ids[3], ids[2], ids[1]]);
      expect(down.prevCursor).not.toBeNull();
      expect((await getJson(paged, '/api/messages?after=x1')).status).toBe(400);
    } finally {
      await paged.stop();
    }
  });
});

describe('bulk read marking', () => {
  it('marks matching messages read, announces it once, and rejects a bad body', async () => {
    await sendRaw(kotak.smtpPort, simpleMessage('bulkread alpha'));
    await sendRaw(kotak.smtpPort, simpleMessage('bulkread beta'));
    const live = await LiveClient.connect(kotak);
    const res = await getJson(kotak, '/api/messages', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ read: true, query: 'subject:bulkread' }),
    });
    expect(res.body).toEqual({ updated: 2 });
    expect((await live.next('messages:updated')).data).toEqual({ mailbox: 'default', read: true, count: 2 });
    const listed = (await getJson(kotak, '/api/messages?query=subject:bulkread')).body;
    expect(listed.messages.every((m: { read: boolean }) => m.read)).toBe(true);
    live.ws.close();
    const bad = await getJson(kotak, '/api/messages', { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"read":"yes"}' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });
});

describe('message HTML document', () => {
  it('is served stripped, with cid: resolved to parts, remote content blocked unless asked, under a no-script CSP', async () => {
    const info = await transport(kotak).sendMail({
      from: 'a@example.com',
      to: 'b@example.com',
      subject: 'html doc',
      html: '<p onclick="x()">Hi<script>alert(1)</script></p><img src="cid:pic@test"><img src="https://remote.test/p.png"><a href="https://example.com">go</a>',
      attachments: [{ filename: 'pic.png', content: Buffer.from('png'), cid: 'pic@test', contentType: 'image/png' }],
    });
    const id = queuedId(info.response);
    const blocked = await fetch(`${kotak.url}/api/messages/${id}/html`);
    expect(blocked.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = blocked.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('sandbox allow-popups allow-popups-to-escape-sandbox');
    expect(csp).not.toMatch(/script-src/);
    expect(csp).not.toContain('https:');
    const html = await blocked.text();
    expect(html).not.toMatch(/script|onclick|remote\.test/i);
    expect(html).toMatch(/src="parts\/\d+(\.\d+)*"/);
    expect(html).toMatch(/<a [^>]*target="_blank"/);
    expect(html).toMatch(/rel="noopener noreferrer"/);

    const allowed = await fetch(`${kotak.url}/api/messages/${id}/html?remote=1`);
    expect(allowed.headers.get('content-security-policy')).toContain('https:');
    expect(await allowed.text()).toContain('https://remote.test/p.png');

    const plain = queuedId(await sendRaw(kotak.smtpPort, simpleMessage('no html here')));
    expect((await getJson(kotak, `/api/messages/${plain}/html`)).status).toBe(404);
    expect((await getJson(kotak, `/api/messages/${id}/html?remote=yes`)).status).toBe(400);
  });
});
