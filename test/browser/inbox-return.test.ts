/**
 * Back from a message, the keyboard cursor is on the row that was opened (issue 18: it used to
 * jump to the first row, because the list is rebuilt when it returns).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium } from '../helpers/browser.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let kotak: RunningKotak;
let browser: Browser;

beforeAll(async () => {
  [kotak, browser] = await Promise.all([withKotak(), launchChromium()]);
  for (const subject of ['Oldest', 'Middle', 'Newest']) await transport(kotak).sendMail({ from: 'a@example.test', to: 'b@example.test', subject, text: subject });
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
});

const current = (page: Page) => page.locator('.message-list li[aria-current="true"]').textContent();

describe('returning to the list', () => {
  it('keeps the cursor on the message opened, by keyboard (Enter, Escape) and by the back button', async () => {
    const page = await browser.newPage();
    await page.goto(kotak.url);
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
