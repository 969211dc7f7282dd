/**
 * The message view in Chromium (issue 18): the HTML-source tab (highlighted, its highlighter
 * fetched only when the tab opens, a hostile source shown as inert text, plain text over the size
 * cap), attachments as cards (thumbnails, checksums equal to node:crypto's, a calendar invite as
 * an event), the download menu (keyboard, and the right bytes for each item), and the phone header
 * that folds to one line. Real Kotak and real mail on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, screenshot, watchAlarms } from '../helpers/browser.js';
import { getJson, transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const env = kotakInChromium();

const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
const NOTES = Buffer.from('Minutes of the meeting\nAction items: none\n');
const BLOB = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256));
const HOSTILE_HTML = [
  '<!doctype html>',
  '<html><body>',
  '<p class="greeting">Hello &amp; welcome</p>',
  '<script>window.__pwned = 1; alert("script")</script>',
  '<img src="x" onerror="window.__pwned = 1; alert(\'img\')">',
  '</body></html>',
].join('\n');

let hostileId: string;
let attachmentsId: string;
let calendarId: string;

const send = async (mail: Record<string, unknown>): Promise<string> =>
  queuedId((await transport(env.kotak).sendMail({ from: 'Ada Lovelace <ada@example.test>', to: 'dev@example.test', ...mail })).response);

beforeAll(async () => {
  hostileId = await send({ subject: 'Hostile source', html: HOSTILE_HTML, text: 'Hello & welcome' });
  attachmentsId = await send({
    subject: 'With attachments',
    cc: 'Grace <grace@example.test>',
    text: 'See attached.',
    html: '<p>See <b>attached</b>.</p>',
    attachments: [
      { filename: 'pixel.png', content: PIXEL, contentType: 'image/png' },
      { filename: 'notes.txt', content: NOTES, contentType: 'text/plain' },
      { filename: 'blob.bin', content: BLOB, contentType: 'application/octet-stream' },
    ],
  });
  calendarId = queuedId(await sendRaw(env.kotak.smtpPort, await readFile(new URL('../fixtures/corpus/postalmime--calendar-event.eml', import.meta.url))));
});

async function open(id: string, width = 1200): Promise<Page> {
  const page = await env.browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(`${env.kotak.url}/messages/${id}`);
  await page.getByRole('tablist', { name: 'Message parts' }).waitFor();
  return page;
}

describe('the HTML source tab', () => {
  it('fetches the highlighter only when the tab opens, and shows the source highlighted with line numbers', async () => {
    const page = await env.browser.newPage({ viewport: { width: 1200, height: 900 } });
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
    });
    const logged: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') logged.push(message.text());
    });
    const alarms = watchAlarms(page);
    await page.goto(`${env.kotak.url}/messages/${hostileId}`);
    await page.frameLocator('iframe[title="Message HTML"]').getByText('Hello & welcome').waitFor();
    const atLoad = [...scripts];

    await page.getByRole('tab', { name: 'HTML source' }).click();
    const source = page.getByRole('list', { name: 'HTML source' });
    await source.and(page.locator('[data-highlighted="true"]')).waitFor();
    const fetchedForTab = scripts.filter((path) => !atLoad.includes(path));
    expect(fetchedForTab).toHaveLength(1);
    // What the tab fetched is highlight.js (its class prefix), and the code loaded at start is not.
    const body = async (path: string) => (await fetch(`${env.kotak.url}${path}`)).text();
    expect(await body(fetchedForTab[0]!)).toContain('hljs-');
    for (const path of atLoad) expect(await body(path)).not.toContain('hljs-');

    // One numbered line per source line, the text exactly the HTML as sent (not the sanitised render).
    const lines = await source.getByRole('listitem').allTextContents();
    expect(lines).toEqual(HOSTILE_HTML.split('\n'));
    expect(await source.locator('.hljs-tag').count()).toBeGreaterThan(5);
    expect(await source.locator('.hljs-attr').first().textContent()).toBe('class');
    // (Test code has no DOM types, so page-side scripts are strings.)
    expect(await page.evaluate(`getComputedStyle(document.querySelectorAll('.source-lines li')[2], '::before').content`)).toBe('counter(line)');

    // The script and the handler are text: nothing ran, no element was made of them.
    expect(await source.locator('script, img, [onerror]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(alarms.dialogs).toEqual([]);
    expect(alarms.errors).toEqual([]);
    // The chunk ran under the app's CSP (a refused script would log a violation).
    expect(logged).toEqual([]);
    await screenshot(page, 'message-html-source');
    await page.close();
  });

  it('shows a source over the size cap as plain numbered text, without fetching the highlighter', async () => {
    const big = Array.from({ length: 24_000 }, (_, i) => `<p>row ${i}</p>`).join('\n');
    const id = await send({ subject: 'Big HTML', html: big });
    const page = await env.browser.newPage();
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(request.url());
    });
    await page.goto(`${env.kotak.url}/messages/${id}`);
    await page.getByRole('tablist', { name: 'Message parts' }).waitFor();
    const atLoad = scripts.length;
    await page.getByRole('tab', { name: 'HTML source' }).click();
    const source = page.getByRole('list', { name: 'HTML source' });
    await source.waitFor();
    expect(await source.getAttribute('data-highlighted')).toBe('false');
    await page.getByText(/shown without syntax colours/).waitFor();
    expect(await source.getByRole('listitem').count()).toBe(24_000);
    expect(await source.getByRole('listitem').last().textContent()).toBe('<p>row 23999</p>');
    expect(scripts.length).toBe(atLoad);
    await page.close();
  });
});

describe('the Attachments tab', () => {
  it('shows a thumbnail for an image and computes checksums on demand, equal to node:crypto', async () => {
    const page = await open(attachmentsId);
    await page.getByRole('tab', { name: 'Attachments (3)' }).click();
    const cards = page.getByRole('list', { name: 'Attachments' }).getByRole('listitem');
    expect(await cards.count()).toBe(3);
    const thumbnail = page.getByRole('img', { name: 'Preview of pixel.png' });
    await eventually(() => thumbnail.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth)).toBe(1);
    await cards.filter({ hasText: 'notes.txt' }).getByText('text/plain').waitFor();

    for (const [name, bytes] of [['notes.txt', NOTES], ['blob.bin', BLOB]] as const) {
      await page.getByRole('button', { name: `Checksums of ${name}` }).click();
      const list = page.locator('dl.checksums', { has: page.locator('dt', { hasText: 'SHA-256' }) }).and(page.getByLabel(`Checksums of ${name}`));
      await list.waitFor();
      const value = async (label: string) => list.locator('dt', { hasText: label }).locator('xpath=following-sibling::dd[1]').textContent();
      expect(await value('SHA-256')).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(await value('SHA-1')).toBe(createHash('sha1').update(bytes).digest('hex'));
      expect(await value('MD5')).toBe(createHash('md5').update(bytes).digest('hex'));
    }
    await page.close();
  });

  it('shows a calendar invite (Google, from the corpus) as the event, once', async () => {
    const page = await open(calendarId);
    await page.getByRole('tab', { name: /^Attachments/ }).click();
    const event = page.getByRole('region', { name: /^Calendar event: Test event/ });
    await event.waitFor();
    // The invite is both a text/calendar alternative and an .ics attachment: one event is shown.
    expect(await page.getByRole('region', { name: /^Calendar event/ }).count()).toBe(1);
    await event.getByText('Invitation (REQUEST)').waitFor();
    await event.getByRole('heading', { name: 'Test event ⏰' }).waitFor();
    await event.getByText('Thu, 11 Apr 2024, 11:00 (Europe/Tallinn)').waitFor();
    await event.getByText('Thu, 11 Apr 2024, 12:00 (Europe/Tallinn)').waitFor();
    await event.getByText('Andris Reinman <andris@postalsys.com>', { exact: true }).waitFor();
    await event.getByRole('listitem').filter({ hasText: 'andris@ethereal.email' }).getByText('no answer yet').waitFor();
    await screenshot(page, 'message-calendar');
    await page.close();
  });
});

describe('the download menu', () => {
  it('opens and moves by keyboard, and Escape closes it onto its button without leaving the message', async () => {
    const page = await open(attachmentsId);
    const button = page.getByRole('button', { name: 'Download' });
    await button.focus();
    await page.keyboard.press('Enter');
    const menu = page.getByRole('menu');
    await menu.waitFor();
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    const items = await menu.getByRole('menuitem').allTextContents();
    expect(items).toEqual(['Message (.eml)', 'HTML body (.html)', 'Text body (.txt)', 'pixel.png', 'notes.txt', 'blob.bin']);
    const focused = () => page.evaluate(`document.activeElement?.textContent ?? ''`);
    await eventually(focused).toBe('Message (.eml)');
    await page.keyboard.press('ArrowDown');
    await eventually(focused).toBe('HTML body (.html)');
    await page.keyboard.press('End');
    await eventually(focused).toBe('blob.bin');
    await page.keyboard.press('ArrowDown');
    await eventually(focused).toBe('Message (.eml)');
    await page.keyboard.press('ArrowUp');
    await eventually(focused).toBe('blob.bin');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    await eventually(focused).toBe('Download ▾');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(new URL(page.url()).pathname).toBe(`/messages/${attachmentsId}`);
    // ↑ on the button opens the menu on its last item.
    await page.keyboard.press('ArrowUp');
    await eventually(focused).toBe('blob.bin');
    await page.close();
  });

  it('downloads the right bytes for every item', async () => {
    const page = await open(attachmentsId);
    const detail = (await getJson<{ html: string; text: string }>(env.kotak, `/api/messages/${attachmentsId}`)).body;
    const raw = Buffer.from(await (await fetch(`${env.kotak.url}/api/messages/${attachmentsId}/raw`)).arrayBuffer());
    const expected: [label: string, filename: string, bytes: Buffer][] = [
      ['Message (.eml)', `${attachmentsId}.eml`, raw],
      ['HTML body (.html)', `${attachmentsId}.html`, Buffer.from(detail.html)],
      ['Text body (.txt)', `${attachmentsId}.txt`, Buffer.from(detail.text)],
      ['pixel.png', 'pixel.png', PIXEL],
      ['notes.txt', 'notes.txt', NOTES],
      ['blob.bin', 'blob.bin', BLOB],
    ];
    for (const [label, filename, bytes] of expected) {
      await page.getByRole('button', { name: 'Download' }).click();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: label, exact: true }).click()]);
      expect(download.suggestedFilename(), label).toBe(filename);
      expect(await readFile((await download.path())!), label).toEqual(bytes);
      await page.getByRole('menu').waitFor({ state: 'detached' });
    }
    await page.close();
  });
});

describe('tags on the message', () => {
  const tagsOf = async (id: string) => (await getJson<{ tags: string[] }>(env.kotak, `/api/messages/${id}`)).body.tags;
  const chips = (page: Page) => page.getByRole('list', { name: 'Tags of this message' }).getByRole('listitem');
  const hueOf = (page: Page, name: string) =>
    chips(page).filter({ hasText: name }).locator('.tag').evaluate((el: { style: { getPropertyValue(name: string): string } }) => el.style.getPropertyValue('--tag-hue'));
  const putTags = (id: string, tags: string[]) =>
    fetch(`${env.kotak.url}/api/messages/${id}/tags`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tags }) });

  it('adds with suggestions from the existing tags, removes with ×, in colours stable per name', async () => {
    const other = await send({ subject: 'Tagged elsewhere', text: 'x' });
    const id = await send({ subject: 'To be tagged', text: 'x' });
    expect((await putTags(other, ['billing', 'Signup flow'])).status).toBe(200);

    const page = await open(id);
    const input = page.getByRole('combobox', { name: 'Add a tag' });
    // The mailbox's tags are offered (a <datalist> the input names).
    const listId = await input.getAttribute('list');
    await eventually(() => page.locator(`datalist[id="${listId}"] option`).evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value))).toEqual(['billing', 'Signup flow']);

    await input.fill('urgent');
    await input.press('Enter');
    await chips(page).filter({ hasText: 'urgent' }).waitFor();
    expect(await input.inputValue()).toBe('');
    await input.fill('billing');
    await page.getByRole('group', { name: 'Tags', exact: true }).getByRole('button', { name: 'Add tag' }).click();
    await chips(page).filter({ hasText: 'billing' }).waitFor();
    expect(await tagsOf(id)).toEqual(['billing', 'urgent']);
    // A tag the message has is no longer suggested.
    await eventually(() => page.locator(`datalist[id="${listId}"] option`).evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value))).toEqual(['Signup flow']);

    // The same name has the same colour on another message; another name, its own.
    const billingHue = await hueOf(page, 'billing');
    expect(billingHue).toMatch(/^\d+$/);
    expect(await hueOf(page, 'urgent')).not.toBe(billingHue);
    const otherPage = await open(other);
    await chips(otherPage).filter({ hasText: 'billing' }).waitFor();
    expect(await hueOf(otherPage, 'billing')).toBe(billingHue);
    await otherPage.close();

    await page.getByRole('button', { name: 'Remove tag urgent' }).click();
    await chips(page).filter({ hasText: 'urgent' }).waitFor({ state: 'detached' });
    expect(await tagsOf(id)).toEqual(['billing']);

    // A name the API refuses says why, and nothing changes.
    await input.fill('no/slashes');
    await input.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Could not change the tags' }).waitFor();
    expect(await tagsOf(id)).toEqual(['billing']);
    await screenshot(page, 'message-tags');
    await page.close();
  });

  it('Escape in the tag field cancels the tag being typed, not the message; a second Escape closes the message', async () => {
    const id = await send({ subject: 'Escape from the tag field', text: 'x' });
    const page = await open(id);
    const input = page.getByRole('combobox', { name: 'Add a tag' });
    await input.fill('half-typ');
    await input.press('Escape');
    expect(await input.inputValue()).toBe('');
    expect(page.url()).toContain(`/messages/${id}`);
    await page.getByRole('heading', { name: 'Escape from the tag field' }).waitFor();
    // Empty now: Escape leaves the field, and the next closes the message as anywhere else.
    await input.press('Escape');
    expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).not.toBe('Add a tag');
    expect(page.url()).toContain(`/messages/${id}`);
    await page.keyboard.press('Escape');
    await page.waitForURL((url) => !url.pathname.startsWith('/messages/'));
    expect(await tagsOf(id)).toEqual([]);
    await page.close();
  });

  it('follows changes made elsewhere, live: one message re-tagged, several at once, a tag deleted everywhere', async () => {
    const id = await send({ subject: 'Tagged live', text: 'x' });
    const page = await open(id);
    await page.getByRole('combobox', { name: 'Add a tag' }).waitFor();
    expect(await chips(page).count()).toBe(0);

    expect((await putTags(id, ['from-api'])).status).toBe(200);
    await chips(page).filter({ hasText: 'from-api' }).waitFor();

    const bulk = await fetch(`${env.kotak.url}/api/messages/tags`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ids: [id, attachmentsId], add: ['bulk'], remove: ['from-api'] }),
    });
    expect(bulk.status).toBe(200);
    await chips(page).filter({ hasText: 'bulk' }).waitFor();
    await chips(page).filter({ hasText: 'from-api' }).waitFor({ state: 'detached' });

    // Mailpit's API deletes a tag from every message: one tags:changed frame, and the view refetches.
    expect((await fetch(`${env.kotak.url}/api/v1/tags/bulk`, { method: 'DELETE' })).status).toBe(200);
    await chips(page).filter({ hasText: 'bulk' }).waitFor({ state: 'detached' });
    await page.close();
  });
});

describe('the message header on a phone', () => {
  it('folds to one line (from, time) and opens its details on tap; the tabs scroll in their own strip', async () => {
    const page = await open(attachmentsId, 375);
    const toggle = page.getByRole('button', { name: /Ada Lovelace/ });
    await toggle.waitFor();
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await toggle.locator('time').textContent()).not.toBe('');
    const toggleBox = (await toggle.boundingBox())!;
    expect(toggleBox.height).toBeLessThan(60);
    const details = page.locator('#message-details');
    expect(await details.isVisible()).toBe(false);
    // Folded, the subject still says which message is open.
    expect(await page.getByRole('heading', { name: 'With attachments' }).isVisible()).toBe(true);
    await screenshot(page, 'message-phone-folded');

    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await page.getByRole('heading', { name: 'With attachments' }).waitFor();
    await details.getByText('Grace <grace@example.test>', { exact: true }).waitFor();
    await details.getByText('dev@example.test', { exact: true }).waitFor();

    const strip = (await page.evaluate(`(() => {
      const el = document.querySelector('[role=tablist]');
      return { scroll: el.scrollWidth, client: el.clientWidth, overflow: getComputedStyle(el).overflowX, top: [...el.children].map((c) => c.getBoundingClientRect().top) };
    })()`)) as { scroll: number; client: number; overflow: string; top: number[] };
    expect(strip.overflow).toBe('auto');
    expect(strip.scroll).toBeGreaterThan(strip.client);
    // One row of tabs, not wrapped.
    expect(new Set(strip.top).size).toBe(1);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.getByRole('tab', { name: 'Checks' }).click();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.getByRole('button', { name: 'Download' }).click();
    await page.getByRole('menu').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    const menuBox = (await page.getByRole('menu').boundingBox())!;
    expect(menuBox.x).toBeGreaterThanOrEqual(0);
    expect(menuBox.x + menuBox.width).toBeLessThanOrEqual(375);
    await page.keyboard.press('Escape');
    await screenshot(page, 'message-phone-open');
    await page.close();
  });

  it('shows the details without a toggle on a wide screen', async () => {
    const page = await open(attachmentsId, 1200);
    await page.getByRole('heading', { name: 'With attachments' }).waitFor();
    expect(await page.locator('.header-toggle').isVisible()).toBe(false);
    expect(await page.locator('#message-details').isVisible()).toBe(true);
    await page.close();
  });
});

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings inside the message view, as `rule: target` lines. */
async function axeFindings(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const results = (await page.evaluate(`axe.run({ include: [['.message']] }, { resultTypes: ['violations'] })`)) as {
    violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[];
  };
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

describe('accessibility of the message view (axe-core)', () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const width of [1200, 375]) {
      it(`has no serious or critical violations, ${colorScheme} at ${width} px: source, attachments with checksums and an invite, the download menu`, async () => {
        const context = await env.browser.newContext({ colorScheme, viewport: { width, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${env.kotak.url}/messages/${hostileId}`);
        await page.getByRole('tab', { name: 'HTML source' }).click();
        await page.locator('[data-highlighted="true"]').waitFor();
        expect(await axeFindings(page)).toEqual([]);
        await screenshot(page, `message-source-${colorScheme}-${width}`);

        // A tag chip with its remove button is in the view too.
        await fetch(`${env.kotak.url}/api/messages/${calendarId}/tags`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tags: ['invite', 'team'] }) });
        await page.goto(`${env.kotak.url}/messages/${calendarId}`);
        await page.getByRole('button', { name: 'Remove tag invite' }).waitFor();
        await page.getByRole('tab', { name: /^Attachments/ }).click();
        await page.getByRole('region', { name: /^Calendar event/ }).waitFor();
        await page.getByRole('button', { name: 'Checksums of invite.ics' }).click();
        await page.locator('dl.checksums').waitFor();
        await page.getByRole('button', { name: 'Download' }).click();
        await page.getByRole('menu').waitFor();
        expect(await axeFindings(page)).toEqual([]);
        await screenshot(page, `message-attachments-${colorScheme}-${width}`);
        await context.close();
      });
    }
  }
});

describe('the tabs by keyboard', () => {
  it('move with the arrow keys, Home and End (WAI-ARIA tabs), selecting and focusing the tab', async () => {
    const page = await open(attachmentsId);
    const selected = () => page.evaluate(`document.querySelector('[role=tab][aria-selected=true]')?.textContent`);
    const focused = () => page.evaluate(`document.activeElement?.getAttribute('role') === 'tab' ? document.activeElement.textContent : null`);
    await page.getByRole('tab', { name: 'Text' }).click();
    await page.keyboard.press('ArrowRight');
    await eventually(selected).toBe('Headers');
    await eventually(focused).toBe('Headers');
    await page.keyboard.press('End');
    await eventually(selected).toBe('Checks');
    await eventually(focused).toBe('Checks');
    await page.keyboard.press('ArrowRight');
    await eventually(selected).toBe('HTML');
    await page.keyboard.press('ArrowLeft');
    await eventually(selected).toBe('Checks');
    await page.keyboard.press('Home');
    await eventually(selected).toBe('HTML');
    await eventually(focused).toBe('HTML');
    await page.close();
  });
});
