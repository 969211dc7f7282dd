/**
 * The inbox behind a reverse proxy at a sub-path (--http-base-path /mail/), WebSocket included,
 * and its recovery when the live connection drops: it reconnects, resyncs, and shows every
 * message exactly once.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium } from '../helpers/browser.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { startProxy, type TestProxy } from '../helpers/proxy.js';

let kotak: RunningKotak;
let proxy: TestProxy;
let browser: Browser;

beforeAll(async () => {
  [kotak, browser] = await Promise.all([withKotak({ httpBasePath: '/mail/' }), launchChromium()]);
  proxy = await startProxy(kotak.httpPort);
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await kotak?.stop();
});

const liveStatus = (page: Page, state: RegExp) => page.getByRole('status', { name: state });
const row = (page: Page, subject: string) => page.getByRole('listitem').filter({ hasText: subject });

describe('web inbox behind a reverse proxy at /mail/', () => {
  it('serves the app, the API and the WebSocket under the base path', async () => {
    const page = await browser.newPage();
    await page.goto(`${proxy.url}/mail/`);
    await liveStatus(page, /Live updates: Live/).waitFor();
    await transport(kotak).sendMail({ from: 'proxy@example.com', to: 'dev@example.com', subject: 'Through the proxy', text: 'hi' });
    await row(page, 'Through the proxy').waitFor();
    await row(page, 'Through the proxy').getByRole('link').click();
    await page.waitForURL(/\/mail\/messages\/[\w-]+$/);
    await page.getByRole('heading', { name: 'Through the proxy' }).waitFor();
    // A deep link survives a reload.
    await page.reload();
    await page.getByRole('heading', { name: 'Through the proxy' }).waitFor();
    await page.close();

    const outside = await fetch(`${proxy.url}/api/messages`);
    expect(outside.status).toBe(404);
    const root = await fetch(`${proxy.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/mail/');
  });

  it('reconnects after the WebSocket drops and shows what arrived meanwhile, once', async () => {
    const page = await browser.newPage();
    await page.goto(`${proxy.url}/mail/`);
    await liveStatus(page, /Live updates: Live/).waitFor();

    proxy.acceptWebSockets = false;
    proxy.dropWebSockets();
    await liveStatus(page, /Offline|Connecting/).waitFor();
    const mailer = transport(kotak);
    await mailer.sendMail({ from: 'gap@example.com', to: 'dev@example.com', subject: 'Sent while offline', text: 'missed frame' });
    proxy.acceptWebSockets = true;

    await row(page, 'Sent while offline').waitFor();
    await liveStatus(page, /Live updates: Live/).waitFor();
    await mailer.sendMail({ from: 'gap@example.com', to: 'dev@example.com', subject: 'Sent after reconnect', text: 'live again' });
    await row(page, 'Sent after reconnect').waitFor();
    expect(await row(page, 'Sent while offline').count()).toBe(1);
    await eventually(() => page.getByRole('listitem').count()).toBe(3);
    await page.close();
  });
});
