/**
 * The HTML check over real sockets: mail sent with nodemailer over SMTP, then Kotak's
 * GET /api/messages/{id}/checks/html (by fetch and by kotak/client's message.checks.html()) and
 * Mailpit's GET /api/v1/message/{ID}/html-check (by the real `mailpit-api` client's htmlCheck()).
 * A scoped login sees the check only of its own mailboxes; hostile HTML gets a clear refusal.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailpitClient } from 'mailpit-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KotakClient } from '../../src/client/index.js';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

let dir: string;
let kotak: RunningKotak;

const CAROL = { Authorization: `Basic ${Buffer.from('carol:carol-pass').toString('base64')}` };
const DAVE = { Authorization: `Basic ${Buffer.from('dave:dave-pass').toString('base64')}` };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kotak-html-check-'));
  await writeFile(join(dir, 'users.htpasswd'), 'carol:carol-pass\ndave:dave-pass\n');
  await writeFile(join(dir, 'mailboxes'), 'carol w3\ndave *\n');
  kotak = await withKotak({ mailboxRoute: '*@{mailbox}.inbox.test', httpAuth: join(dir, 'users.htpasswd'), httpAuthMailboxes: join(dir, 'mailboxes') });
});

afterAll(async () => {
  await kotak?.stop();
  await rm(dir, { recursive: true, force: true });
});

const NEWSLETTER = `<!DOCTYPE html>
<html><head><style>
.row { display: flex; }
@media (prefers-color-scheme: dark) { body { background: #000; } }
</style></head>
<body><table><tr><td style="background-image: url(https://example.test/bg.png)"><div class="row">Hi</div></td></tr></table>
<img src="https://example.test/logo.png" srcset="https://example.test/logo@2x.png 2x" alt=""></body></html>`;

/** Sent over SMTP: the 250 reply carries the id, and means stored. */
async function send(mailbox: string, content: { html?: string; text?: string }): Promise<string> {
  const info = await transport(kotak).sendMail({ from: 'app@example.com', to: `user@${mailbox}.inbox.test`, subject: 'Check me', ...content });
  return queuedId(info.response);
}

describe('GET /api/messages/{id}/checks/html', () => {
  it('reports the features used, their support per client, the data version and a weighted total', async () => {
    const id = await send('w3', { html: NEWSLETTER, text: 'Hi' });
    const { status, body } = await getJson(kotak, `/api/messages/${id}/checks/html`, { headers: CAROL });
    expect(status).toBe(200);
    expect(body.hasHtml).toBe(true);
    expect(body.data).toEqual({ source: 'https://www.caniemail.com/', updated: '2025-09-09', apiVersion: '1.0.4' });
    expect(body.nodes).toBe(7); // style, body, table, tr, td, div, img
    const slugs = body.features.map((f: { slug: string }) => f.slug);
    expect(slugs).toEqual(expect.arrayContaining([
      'css-display-flex', 'css-at-media-prefers-color-scheme', 'html-table', 'css-background-image', 'html-srcset', 'image-png', 'html-doctype',
    ]));
    const flex = body.features.find((f: { slug: string }) => f.slug === 'css-display-flex');
    expect(flex).toMatchObject({ count: 1, first: { line: 3, column: 8 }, url: 'https://www.caniemail.com/features/css-display-flex/' });
    expect(flex.clients).toContainEqual(expect.objectContaining({ family: 'outlook', platform: 'windows', version: '2019', support: 'no' }));
    expect(body.total.supported + body.total.partial + body.total.unsupported).toBeCloseTo(100, 1);
    expect(body.total.unsupported).toBeGreaterThan(0);

    // The same through kotak/client, typed.
    const client = new KotakClient(kotak.url, { fetch: (input, init) => fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...CAROL } }) });
    const message = await client.get(id);
    const check = await message.checks.html();
    expect(check.features.map((f) => f.slug)).toEqual(slugs);
    expect(check.total).toEqual(body.total);
  });

  it('a message without HTML: hasHtml false and no features', async () => {
    const id = await send('w3', { text: 'plain only' });
    const { status, body } = await getJson(kotak, `/api/messages/${id}/checks/html`, { headers: CAROL });
    expect(status).toBe(200);
    expect(body).toMatchObject({ hasHtml: false, features: [], nodes: 0, data: { updated: '2025-09-09' } });
  });

  it('a message outside the login\'s mailboxes is 404, as an unknown id', async () => {
    const id = await send('w4', { html: NEWSLETTER });
    expect((await getJson(kotak, `/api/messages/${id}/checks/html`, { headers: CAROL })).status).toBe(404);
    expect((await getJson(kotak, `/api/messages/${id}/checks/html`, { headers: DAVE })).status).toBe(200);
    const unknown = await getJson(kotak, '/api/messages/01JD8X2V3K9QW0M7ZP4T6R2B1C/checks/html', { headers: DAVE });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });

  it('10 MB of hostile HTML: a clear check_too_large answer, and Kotak keeps serving', async () => {
    const id = await send('w3', { html: `<div style="color:red">${'<b>'.repeat(3_500_000)}` });
    const { status, body } = await getJson(kotak, `/api/messages/${id}/checks/html`, { headers: CAROL });
    expect(status).toBe(422);
    expect(body.error.code).toBe('check_too_large');
    expect(body.error.message).toMatch(/the check reads at most 2097152/);
    const mailpit = await fetch(`${kotak.url}/api/v1/message/${id}/html-check`, { headers: CAROL });
    expect(mailpit.status).toBe(422);
    expect(await mailpit.text()).toMatch(/^HTML check: the HTML is \d+ bytes/);
    expect((await getJson(kotak, '/livez')).status).toBe(200);
  });

  it('a CSS bomb: a clear check_too_large answer', async () => {
    const bomb = `<style>${Array.from({ length: 30_000 }, (_, i) => `.c${i}:hover`).join(',')} { color: red }</style><p>x</p>`;
    const id = await send('w3', { html: bomb });
    const { status, body } = await getJson(kotak, `/api/messages/${id}/checks/html`, { headers: CAROL });
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: 'check_too_large', message: expect.stringMatching(/selector list is over/) });
  });
});

describe('Mailpit GET /api/v1/message/{ID}/html-check', () => {
  const mailpit = () => new MailpitClient(kotak.url, { auth: { username: 'carol', password: 'carol-pass' } });

  it('mailpit-api\'s htmlCheck() reads Mailpit\'s shape, for an id and for "latest"', async () => {
    const id = await send('w3', { html: NEWSLETTER });
    const check = await mailpit().htmlCheck(id);
    expect(Object.keys(check).sort()).toEqual(['Platforms', 'Total', 'Warnings']);
    expect(Object.keys(check.Total).sort()).toEqual(['Nodes', 'Partial', 'Supported', 'Tests', 'Unsupported']);
    expect(check.Total.Nodes).toBe(7);
    expect(check.Total.Supported + check.Total.Partial + check.Total.Unsupported).toBeCloseTo(100, 1);
    expect(check.Platforms.windows).toContain('Outlook');
    const flex = check.Warnings.find((w) => w.Slug === 'css-display-flex')!;
    expect(Object.keys(flex).sort()).toEqual(['Category', 'Description', 'Keywords', 'NotesByNumber', 'Results', 'Score', 'Slug', 'Tags', 'Title', 'URL']);
    expect(flex.Score.Found).toBe(1);
    expect(flex.Results).toContainEqual({ Name: 'Outlook Windows (2019)', Platform: 'windows', Family: 'outlook', Version: '2019', Support: 'no', NoteNumber: '' });
    expect((await mailpit().htmlCheck()).Total).toEqual(check.Total);
  });

  it('a message without HTML: Mailpit\'s 400 "message does not contain HTML"', async () => {
    const id = await send('w3', { text: 'plain only' });
    const response = await fetch(`${kotak.url}/api/v1/message/${id}/html-check`, { headers: CAROL });
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('message does not contain HTML');
    await expect(mailpit().htmlCheck(id)).rejects.toThrow();
  });

  it('an unknown or out-of-scope ID: Mailpit\'s 404', async () => {
    const w4 = await send('w4', { html: NEWSLETTER });
    for (const id of [w4, 'nope']) {
      const response = await fetch(`${kotak.url}/api/v1/message/${id}/html-check`, { headers: CAROL });
      expect(response.status).toBe(404);
      expect(await response.text()).toBe('404 page not found');
    }
  });
});
