/**
 * The web inbox in a real Chromium: live rows, the message view and its tabs, hostile messages,
 * remote content, search, deletes across tabs, keyboard, and screenshots in both themes.
 * Every wait is on something the page shows; nothing sleeps.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, screenshot, watchAlarms } from '../helpers/browser.js';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

let kotak: RunningKotak;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  [kotak, browser] = await Promise.all([withKotak(), launchChromium()]);
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
});

async function openInbox(path = '/'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  return page;
}

const row = (page: Page, subject: string) => page.getByRole('listitem').filter({ hasText: subject });

// 1×1 red PNG.
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');

describe('web inbox', () => {
  it('shows a message sent over SMTP without a reload', async () => {
    const page = await openInbox();
    await transport(kotak).sendMail({ from: 'Live Sender <live@example.com>', to: 'dev@example.com', subject: 'Arrives live', text: 'hello live' });
    await row(page, 'Arrives live').waitFor();
    await row(page, 'Arrives live').getByText('Live Sender').waitFor();
    expect(await row(page, 'Arrives live').getAttribute('class')).toContain('unread');
    await eventually(() => page.title()).toMatch(/^\(\d+\) Kotak$/);
    await page.close();
  });

  it('opens a message: subject, text, HTML with a cid image, and an attachment that downloads byte-identical', async () => {
    const attachment = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    await transport(kotak).sendMail({
      from: 'shop@example.com',
      to: 'buyer@example.com',
      subject: 'Your receipt',
      text: 'Thanks for your order. Track it at https://example.com/track/42',
      html: '<p>Thanks for <b>your order</b>.</p><img alt="logo" src="cid:logo@kotak.test"><a href="https://example.com/track/42">Track it</a>',
      attachments: [
        { filename: 'logo.png', content: PIXEL, cid: 'logo@kotak.test', contentType: 'image/png' },
        { filename: 'receipt data.bin', content: attachment, contentType: 'application/octet-stream' },
      ],
    });
    const page = await openInbox();
    await row(page, 'Your receipt').getByRole('link').click();
    await page.getByRole('heading', { name: 'Your receipt' }).waitFor();
    expect(page.url()).toMatch(/\/messages\/[\w-]+$/);

    const frame = page.frameLocator('iframe[title="Message HTML"]');
    await frame.getByText('your order').waitFor();
    const logo = frame.getByRole('img', { name: 'logo' });
    await eventually(() => logo.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth)).toBe(1);
    expect(await frame.getByRole('link', { name: 'Track it' }).getAttribute('target')).toBe('_blank');
    expect(await frame.getByRole('link', { name: 'Track it' }).getAttribute('rel')).toContain('noopener');

    await page.getByRole('tab', { name: 'Text' }).click();
    // In the tab, not the list's snippet of the same text beside it.
    await page.getByRole('tabpanel', { name: 'Text' }).getByText('Thanks for your order. Track it at').waitFor();

    await page.getByRole('tab', { name: /Links/ }).click();
    await page.getByRole('list', { name: 'Links' }).getByRole('link', { name: 'https://example.com/track/42' }).first().waitFor();
    await page.getByText('Track it', { exact: true }).waitFor();

    await page.getByRole('tab', { name: /Attachments/ }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download receipt data.bin' }).click()]);
    expect(download.suggestedFilename()).toBe('receipt data.bin');
    expect(await readFile(await download.path())).toEqual(attachment);

    await page.getByRole('tab', { name: 'Headers' }).click();
    await page.getByRole('searchbox', { name: 'Filter headers' }).fill('subject');
    await page.getByRole('rowheader', { name: 'Subject' }).waitFor();
    await page.getByRole('rowheader', { name: 'From' }).waitFor({ state: 'detached' });

    await page.getByRole('tab', { name: 'Raw' }).click();
    await page.getByLabel('Raw source').filter({ hasText: 'Subject: Your receipt' }).waitFor();
    await page.close();
  });

  it('runs nothing from a hostile message, in the list or the view', async () => {
    const hostile = '<script>window.__pwned = 1; alert("subject")</script>';
    await transport(kotak).sendMail({
      from: '"<img src=x onerror=alert(1)>" <evil@example.com>',
      to: 'dev@example.com',
      subject: `Hostile ${hostile}`,
      text: hostile,
      html: `<p>Hi</p><script>window.__pwned = 1; alert("script")</script><img src="x" onerror="window.__pwned = 1; alert('img')">
        <svg onload="window.__pwned = 1; alert('svg')"><circle r="5"/></svg><a id="js" href="javascript:window.__pwned=1;alert('link')">click me</a>
        <iframe srcdoc="<script>parent.__pwned=1;alert('srcdoc')</script>"></iframe><form action="javascript:alert('form')"><button>go</button></form>`,
      attachments: [{ filename: '<img src=x onerror="window.__pwned=1;alert(\'file\')">.txt', content: 'x' }],
    });
    const page = await openInbox();
    const alarms = watchAlarms(page);
    await row(page, 'Hostile').waitFor();
    await row(page, 'Hostile').locator('.subject').filter({ hasText: hostile }).waitFor(); // shown as text
    await row(page, 'Hostile').getByRole('link').click();
    await page.getByRole('heading', { name: /Hostile/ }).waitFor();
    const frame = page.frameLocator('iframe[title="Message HTML"]');
    await frame.getByText('Hi', { exact: true }).waitFor();
    await frame.getByText('click me').click().catch(() => undefined);
    for (const tab of ['Text', 'Headers', 'Raw']) {
      await page.getByRole('tab', { name: tab }).click();
      await eventually(() => page.getByRole('tab', { name: tab }).getAttribute('aria-selected')).toBe('true');
    }
    await page.getByRole('tab', { name: 'Attachments (1)' }).click();
    await page.getByRole('list', { name: 'Attachments' }).getByText(/^<img src=x onerror=.*\.txt$/).waitFor(); // the filename, as text
    await page.getByRole('tab', { name: 'Links (1)' }).click();
    await page.getByText("javascript:window.__pwned=1;alert('link')").waitFor(); // listed, not clickable
    expect(await page.getByRole('link', { name: /javascript:/ }).count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(alarms.dialogs).toEqual([]);
    expect(alarms.errors).toEqual([]);
    // The HTML document is served already stripped of scripts and handlers, and under a CSP that runs nothing.
    const id = page.url().split('/').pop()!;
    const res = await fetch(`${kotak.url}/api/messages/${id}/html`);
    const html = await res.text();
    expect(html).not.toMatch(/<script|onerror|onload|javascript:|srcdoc|<iframe|<form/i);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    await page.close();
  });

  it('does not request a remote image until remote content is allowed', async () => {
    const requests: string[] = [];
    let firstRequest!: () => void;
    const requested = new Promise<void>((resolve) => (firstRequest = resolve));
    const remote: Server = createServer((req, res) => {
      requests.push(req.url ?? '');
      firstRequest();
      res.writeHead(200, { 'Content-Type': 'image/png' }).end(PIXEL);
    });
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    const remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    try {
      await transport(kotak).sendMail({
        from: 'news@example.com',
        to: 'dev@example.com',
        subject: 'Tracking pixel',
        html: `<p>Newsletter</p><img alt="tracker" src="${remoteUrl}/pixel.png"><div style="background: url('${remoteUrl}/bg.png')">bg</div>`,
      });
      const page = await openInbox();
      await row(page, 'Tracking pixel').getByRole('link').click();
      const iframe = page.frameLocator('iframe[title="Message HTML"]');
      await iframe.getByText('Newsletter').waitFor();
      // After the document's load event every image it could fetch has been requested.
      const frame = page.frames().find((f) => f.url().includes('/html?remote=0'))!;
      await frame.waitForLoadState('load');
      expect(requests).toEqual([]);

      await page.getByRole('switch', { name: 'Load remote content' }).click();
      await eventually(() => page.getByRole('switch', { name: 'Load remote content' }).getAttribute('aria-checked')).toBe('true');
      await requested;
      expect(requests).toContain('/pixel.png');
      await page.close();
    } finally {
      remote.closeAllConnections();
      await new Promise((resolve) => remote.close(resolve));
    }
  });

  it('searches with the query in the URL, and explains an invalid query', async () => {
    const mailer = transport(kotak);
    await mailer.sendMail({ from: 'a@example.com', to: 'dev@example.com', subject: 'Invoice zebra-1', text: 'one' });
    await mailer.sendMail({ from: 'b@example.com', to: 'dev@example.com', subject: 'Welcome giraffe', text: 'two' });
    const page = await openInbox();
    await page.getByRole('combobox', { name: 'Search messages' }).fill('subject:zebra');
    await page.getByRole('combobox', { name: 'Search messages' }).press('Enter');
    await page.waitForURL(/\?q=subject%3Azebra$/);
    await row(page, 'Invoice zebra-1').waitFor();
    await row(page, 'Welcome giraffe').waitFor({ state: 'detached' });

    // A bookmarked search opens filtered.
    const bookmarked = await openInbox('/?q=giraffe');
    await row(bookmarked, 'Welcome giraffe').waitFor();
    await row(bookmarked, 'Invoice zebra-1').waitFor({ state: 'detached' });
    expect(await bookmarked.getByRole('combobox', { name: 'Search messages' }).inputValue()).toBe('giraffe');

    await page.getByRole('combobox', { name: 'Search messages' }).fill('subject:"unterminated');
    await page.getByRole('combobox', { name: 'Search messages' }).press('Enter');
    await page.getByRole('alert').filter({ hasText: 'unterminated quote' }).waitFor();
    await page.close();
    await bookmarked.close();
  });

  it('deletes a row everywhere: a second tab sees it go', async () => {
    await transport(kotak).sendMail({ from: 'a@example.com', to: 'dev@example.com', subject: 'Delete me everywhere', text: 'bye' });
    const [first, second] = await Promise.all([openInbox(), openInbox()]);
    await Promise.all([row(first, 'Delete me everywhere').waitFor(), row(second, 'Delete me everywhere').waitFor()]);
    // Only the front tab gets animation frames at full speed, and Playwright's actions wait on them.
    await first.bringToFront();
    await row(first, 'Delete me everywhere').getByRole('checkbox').check();
    await first.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await row(first, 'Delete me everywhere').waitFor({ state: 'detached' });
    await row(second, 'Delete me everywhere').waitFor({ state: 'detached' });
    const { body } = await getJson(kotak, `/api/messages?query=${encodeURIComponent('subject:"Delete me everywhere"')}`);
    expect(body.total).toBe(0);
    await first.close();
    await second.close();
  });

  it('keeps the toolbar to one line on a phone, sliding sideways, the same height with and without a selection', async () => {
    await transport(kotak).sendMail({ from: 'a@example.com', to: 'dev@example.com', subject: 'Toolbar otter', text: 'x' });
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
    await page.goto(`${kotak.url}/?q=otter`);
    await row(page, 'Toolbar otter').waitFor();
    const toolbar = page.getByRole('toolbar', { name: 'Message actions' });
    const lineHeight = (await toolbar.getByRole('button', { name: 'Mark read', exact: true }).boundingBox())!.height;
    const height = async () => (await toolbar.boundingBox())!.height;
    // It took three lines (eight controls wrapped), a quarter of the first screen.
    expect(await height()).toBeLessThan(lineHeight * 1.5);
    const unselected = await height();
    await screenshot(page, 'inbox-phone-toolbar');

    await row(page, 'Toolbar otter').getByRole('checkbox').check();
    await toolbar.getByText('1 selected').waitFor();
    expect(await height()).toBe(unselected);
    // The page never scrolls sideways; the strip does, and every control in it works.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await toolbar.getByRole('button', { name: 'Mark read', exact: true }).click();
    await eventually(() => row(page, 'Toolbar otter').getAttribute('class')).toMatch(/\bread\b/);
    await toolbar.getByRole('button', { name: 'Delete all matching' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No messages match this search').waitFor();
    await page.close();
  });

  it('marks read and unread, marks all read, and deletes all matching after confirmation', async () => {
    const mailer = transport(kotak);
    for (const n of [1, 2, 3]) await mailer.sendMail({ from: 'bulk@example.com', to: 'dev@example.com', subject: `Bulk walrus ${n}`, text: 'x' });
    const page = await openInbox('/?q=walrus');
    await eventually(() => page.getByRole('listitem').count()).toBe(3);
    await row(page, 'Bulk walrus 2').getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Mark read', exact: true }).click();
    await eventually(() => row(page, 'Bulk walrus 2').getAttribute('class')).toMatch(/\bread\b/);
    await page.getByRole('button', { name: 'Mark matching read' }).click();
    await eventually(() => page.locator('li.unread').count()).toBe(0);
    await page.getByRole('button', { name: 'Delete all matching' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.filter({ hasText: 'Delete the 3 matching messages?' }).waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No messages match this search').waitFor();
    const { body } = await getJson(kotak, '/api/messages?query=walrus');
    expect(body.total).toBe(0);
    await page.close();
  });

  it('works from the keyboard', async () => {
    const mailer = transport(kotak);
    await mailer.sendMail({ from: 'k@example.com', to: 'dev@example.com', subject: 'Keyboard older', text: 'older' });
    await mailer.sendMail({ from: 'k@example.com', to: 'dev@example.com', subject: 'Keyboard newer', text: 'newer' });
    const page = await openInbox('/?q=keyboard');
    await eventually(() => page.getByRole('listitem').count()).toBe(2);
    await page.locator('li[aria-current="true"]').filter({ hasText: 'Keyboard newer' }).waitFor();
    await page.keyboard.press('j');
    await page.locator('li[aria-current="true"]').filter({ hasText: 'Keyboard older' }).waitFor();
    await page.keyboard.press('u');
    await eventually(() => row(page, 'Keyboard older').getAttribute('class')).toMatch(/\bread\b/);
    await page.keyboard.press('k');
    await page.locator('li[aria-current="true"]').filter({ hasText: 'Keyboard newer' }).waitFor();
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'detached' });
    await page.keyboard.press('/');
    await eventually(() => page.getByRole('combobox', { name: 'Search messages' }).evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Keyboard newer' }).waitFor();
    await page.keyboard.press('Escape');
    await row(page, 'Keyboard newer').waitFor();
    await page.keyboard.press('Delete');
    await row(page, 'Keyboard newer').waitFor({ state: 'detached' });
    await page.close();
  });

  it('shows the raw source and the reason for a message that could not be parsed', async () => {
    // A 1 ms parse limit makes this message's parse overrun: it is stored raw and flagged.
    const strict = await withKotak({ parseTimeout: '1ms' });
    try {
      const raw = Buffer.from(`Subject: slow to parse\r\nContent-Type: text/html\r\n\r\n${'<div>'.repeat(20000)}text\r\n`);
      const id = queuedId(await sendRaw(strict.smtpPort, raw));
      const page = await context.newPage();
      const alarms = watchAlarms(page);
      await page.goto(`${strict.url}/messages/${id}`);
      await page.getByRole('alert').filter({ hasText: 'could not be parsed (parsing took longer than 1 ms' }).waitFor();
      await eventually(() => page.getByRole('tab', { name: 'Raw' }).getAttribute('aria-selected')).toBe('true');
      await page.getByLabel('Raw source').filter({ hasText: 'Subject: slow to parse' }).waitFor();
      expect(alarms.errors).toEqual([]);
      await page.close();
    } finally {
      await strict.stop();
    }
  });

  it('writes screenshots of the inbox and a message, light and dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const themed = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 800 } });
      const page = await themed.newPage();
      await page.goto(kotak.url);
      await page.getByRole('listitem').first().waitFor();
      await screenshot(page, `inbox-${scheme}`);
      await row(page, 'Your receipt').getByRole('link').click();
      await page.frameLocator('iframe[title="Message HTML"]').getByText('your order').waitFor();
      await screenshot(page, `message-${scheme}`);
      const background = await page.locator('body').evaluate((body) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(body).backgroundColor);
      expect(background).toBe(scheme === 'dark' ? 'rgb(20, 23, 27)' : 'rgb(255, 255, 255)');
      await themed.close();
    }
    // The toggle overrides the system: system → light → dark, remembered across reloads.
    const toggled = await browser.newContext({ colorScheme: 'light' });
    const themed = await toggled.newPage();
    await themed.goto(kotak.url);
    const bodyColor = () => themed.locator('body').evaluate((body) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(body).backgroundColor);
    await themed.getByRole('button', { name: 'Theme: system' }).click();
    await themed.getByRole('button', { name: 'Theme: light' }).click();
    await themed.getByRole('button', { name: 'Theme: dark' }).waitFor();
    expect(await bodyColor()).toBe('rgb(20, 23, 27)');
    await themed.reload();
    await themed.getByRole('button', { name: 'Theme: dark' }).waitFor();
    expect(await bodyColor()).toBe('rgb(20, 23, 27)');
    await toggled.close();

    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    const page = await phone.newPage();
    await page.goto(kotak.url);
    await page.getByRole('listitem').first().waitFor();
    expect(await page.locator('html').evaluate((html: { scrollWidth: number }) => html.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'inbox-phone');
    await phone.close();
  });
});
