/**
 * The web inbox in Chromium with HTTP authentication on (--http-auth): the browser asks for a
 * login, then the app, its API calls and its live WebSocket all go through with the Basic
 * credentials the browser holds; and the app runs under its nonce CSP without a single
 * violation. A page on another origin cannot open the live WebSocket even while the user is
 * logged in.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, watchAlarms } from '../helpers/browser.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let dir: string;
let kotak: RunningKotak;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kotak-auth-browser-'));
  const htpasswd = join(dir, 'users.htpasswd');
  await writeFile(htpasswd, `carol:${bcrypt.hashSync('correct horse', 4)}\n`);
  [kotak, browser] = await Promise.all([withKotak({ httpAuth: htpasswd }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
  await rm(dir, { recursive: true, force: true });
});

const row = (page: Page, subject: string) => page.getByRole('listitem').filter({ hasText: subject });

/** Console messages about refused scripts, styles or connections. */
function watchCsp(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

describe('web inbox with --http-auth', () => {
  let context: BrowserContext;

  beforeAll(async () => {
    context = await browser.newContext({ httpCredentials: { username: 'carol', password: 'correct horse' } });
  });

  afterAll(async () => {
    await context?.close();
  });

  it('refuses a browser without credentials', async () => {
    const anonymous = await browser.newContext();
    const page = await anonymous.newPage();
    // Headless Chromium has no login prompt: a 401 with a Basic challenge fails the navigation.
    const outcome = await page.goto(`${kotak.url}/`).then((response) => `status ${response?.status()}`, (err: Error) => err.message);
    expect(outcome).toMatch(/status 401|ERR_INVALID_AUTH_CREDENTIALS/);
    await anonymous.close();
  });

  it('after login, loads the app, its API and its live WebSocket, under the nonce CSP without a violation', async () => {
    const page = await context.newPage();
    const violations = watchCsp(page);
    const alarms = watchAlarms(page);
    await page.goto(`${kotak.url}/`);
    // The live feed runs over a WebSocket the browser authenticated with its Basic credentials.
    await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
    await transport(kotak).sendMail({ from: 'auth@example.com', to: 'dev@example.com', subject: 'Seen through auth', html: '<p>Behind <b>auth</b></p>' });
    await row(page, 'Seen through auth').waitFor();
    await row(page, 'Seen through auth').getByRole('link').click();
    await page.getByRole('heading', { name: 'Seen through auth' }).waitFor();
    await page.frameLocator('iframe[title="Message HTML"]').getByText('auth', { exact: true }).waitFor();
    // Styles applied: the nonce'd stylesheet loaded (an unstyled page has a transparent list).
    expect(await page.evaluate('document.styleSheets.length')).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    expect(alarms.errors).toEqual([]);
    await page.close();
  });

  it('keeps a page on another origin from opening the live WebSocket while the user is logged in', async () => {
    // A page on another port is another origin; the browser still holds the user's credentials for Kotak.
    const evil: Server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<!doctype html><title>evil</title>');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const page = await context.newPage();
      const messages: string[] = [];
      page.on('console', (message) => messages.push(message.text()));
      // Logged in first, so the browser's credentials for Kotak are cached.
      await page.goto(`${kotak.url}/`);
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const liveUrl = `${kotak.url.replace(/^http/, 'ws')}/api/live`;
      const outcome = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve('open');
            ws.onerror = () => resolve('refused');
          }),
        liveUrl,
      );
      expect(outcome).toBe('refused');
      // Refused for its origin (403), not for want of credentials (401).
      await eventually(() => messages.join('\n')).toMatch(/WebSocket handshake: Unexpected response code: 403/);
      await page.close();
    } finally {
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  });
});
