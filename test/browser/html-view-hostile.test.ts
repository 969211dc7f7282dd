/**
 * The sanitiser alone, in a real browser: each hostile payload (test/helpers/hostile-html.ts) is
 * rendered by src/mail/html-view.ts and served as a top-level page with no CSP and no sandbox,
 * then every link is clicked and every element hovered and focused. Nothing may call alert(), and
 * nothing may reach a host other than the test server. (In the inbox the CSP and the iframe
 * sandbox stand behind this; here they are deliberately absent.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlView } from '../../src/mail/html-view.js';
import { launchChromium } from '../helpers/browser.js';
import { HOSTILE_HTML } from '../helpers/hostile-html.js';

let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  server = createServer((request, response) => {
    const index = Number(/^\/payload\/(\d+)$/.exec(request.url ?? '')?.[1] ?? NaN);
    const entry = HOSTILE_HTML[index];
    if (!entry) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    // Remote content held back, so any request to another host is the payload's doing.
    response.end(renderHtmlView(entry[1], { cidUrls: new Map(), allowRemote: false }).html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

/**
 * Clicks every link, hovers and focuses every element: what a reader might do to the message.
 * Only a javascript: link is followed (in place, so it would run in this page); the others would
 * just navigate away, and any request they made elsewhere is caught by the route below. Plain
 * JavaScript, run in the page (the test's TypeScript has no DOM types).
 */
const INTERACT = `(() => {
  for (const element of document.querySelectorAll('*')) {
    for (const type of ['mouseover', 'mouseenter', 'focus', 'toggle']) element.dispatchEvent(new Event(type, { bubbles: true }));
    if (typeof element.focus === 'function') element.focus();
  }
  const protocol = (link) => {
    const href = link.getAttribute('href') ?? link.getAttributeNS('http://www.w3.org/1999/xlink', 'href') ?? '';
    try { return new URL(href, document.baseURI).protocol; } catch { return ''; }
  };
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a, area');
    if (link && protocol(link) !== 'javascript:') event.preventDefault();
  }, true);
  for (const link of document.querySelectorAll('a, area')) {
    link.removeAttribute('target');
    // SVG links have no click(); a dispatched click follows them too.
    link.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window }));
  }
})()`;

async function interact(page: Page): Promise<void> {
  await page.evaluate(INTERACT);
}

describe('sanitised hostile HTML in Chromium, without CSP or sandbox', () => {
  it('runs no script and reaches no other host, for every payload', async () => {
    const context = await browser.newContext();
    const dialogs: string[] = [];
    const foreign: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.origin === base) return route.continue();
      foreign.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    let current = '';
    page.on('dialog', (dialog) => {
      dialogs.push(`${current}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    const ran: string[] = [];
    for (let i = 0; i < HOSTILE_HTML.length; i++) {
      current = HOSTILE_HTML[i]![0];
      const before = dialogs.length + foreign.length;
      await page.goto(`${base}/payload/${i}`, { waitUntil: 'load' });
      await interact(page);
      // Let image errors and timers fire.
      await page.waitForTimeout(20);
      if (dialogs.length + foreign.length > before) ran.push(current);
    }
    expect({ ran, dialogs, foreign }).toEqual({ ran: [], dialogs: [], foreign: [] });
    await context.close();
  });
});
