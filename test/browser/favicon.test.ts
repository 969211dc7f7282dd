/**
 * The tab icon carries the unread count (issue 18: there was no favicon at all): a badge appears
 * with new mail, follows the count live, and goes when everything is read. The icon is a PNG data
 * URL (never SVG: the inbox holds no script-capable URL) that the app's CSP allows, so loading it
 * logs no violation.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();

const icon = (page: Page) => page.locator('link[rel="icon"]');
const iconHref = async (page: Page) => (await icon(page).getAttribute('href')) ?? '';

describe('the favicon', () => {
  it('shows the unread count as a badge, live, and none once all is read', async () => {
    const page = await env.browser.newPage();
    const logged: string[] = [];
    page.on('console', (message) => logged.push(message.text()));
    await page.goto(env.kotak.url);
    await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
    await eventually(() => icon(page).getAttribute('data-unread')).toBe('0');
    expect(await iconHref(page)).toMatch(/^data:image\/png;base64,/);
    const plain = await iconHref(page);

    for (const subject of ['one', 'two']) await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'b@example.test', subject, text: subject });
    await eventually(() => icon(page).getAttribute('data-unread')).toBe('2');
    const badged = await iconHref(page);
    expect(badged).toMatch(/^data:image\/png;base64,/);
    expect(badged).not.toBe(plain);

    await page.getByRole('button', { name: 'Mark all read' }).click();
    await eventually(() => icon(page).getAttribute('data-unread')).toBe('0');
    expect(await iconHref(page)).toBe(plain);
    expect(logged.filter((text) => /Content Security Policy|Refused/i.test(text))).toEqual([]);
    await page.close();
  });
});
