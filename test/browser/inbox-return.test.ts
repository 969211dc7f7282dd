/**
 * Back from a message, the keyboard cursor is on the row that was opened (issue 18: it used to
 * jump to the first row, because the list is rebuilt when it returns).
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();

beforeAll(async () => {
  for (const subject of ['Oldest', 'Middle', 'Newest']) await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'b@example.test', subject, text: subject });
});

const current = (page: Page) => page.locator('.message-list li[aria-current="true"]').textContent();

describe('returning to the list', () => {
  it('keeps the cursor on the message opened, by keyboard (Enter, Escape) and by the back button', async () => {
    const page = await env.browser.newPage();
    await page.goto(env.kotak.url);
    await page.getByRole('listitem').filter({ hasText: 'Oldest' }).waitFor();
    await eventually(() => current(page)).toContain('Newest');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await eventually(() => current(page)).toContain('Oldest');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Oldest' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('listitem').filter({ hasText: 'Oldest' }).waitFor();
    await eventually(() => current(page)).toContain('Oldest');

    // By mouse, and back with the browser's own back button.
    await page.getByRole('listitem').filter({ hasText: 'Middle' }).getByRole('link').click();
    await page.getByRole('heading', { name: 'Middle' }).waitFor();
    await page.goBack();
    await eventually(() => current(page)).toContain('Middle');
    expect(await page.locator('.message-list li[aria-current="true"]').count()).toBe(1);
    await page.close();
  });
});
