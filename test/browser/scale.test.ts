/**
 * The inbox with 20,000 stored messages: one page of rows in the DOM, and the oldest message is
 * reachable and opens.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { withKotak, type RunningKotak } from '../helpers/kotak.js';
import { seedMessages, simpleMessage } from '../helpers/seed.js';
import { sendRaw } from '../helpers/smtp-client.js';

const COUNT = 20_000;

let kotak: RunningKotak;
let browser: Browser;

beforeAll(async () => {
  [kotak, browser] = await Promise.all([withKotak(), launchChromium()]);
  // The oldest first, on its own, so it is unambiguously the first stored.
  await sendRaw(kotak.smtpPort, simpleMessage('The very first message', 'oldest of all'));
  await seedMessages(kotak.smtpPort, COUNT - 1, (i) => simpleMessage(`Bulk message ${String(i).padStart(5, '0')}`));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
});

describe('web inbox with 20,000 messages', () => {
  it('loads one page, reaches the oldest message and opens it', async () => {
    const page = await browser.newPage();
    await page.goto(kotak.url);
    await page.getByText(`${COUNT.toLocaleString('en-US')} messages`).waitFor();
    expect(await page.getByRole('listitem').count()).toBe(50);

    await page.getByRole('button', { name: 'Oldest' }).click();
    const oldest = page.getByRole('listitem').filter({ hasText: 'The very first message' });
    await oldest.waitFor();
    expect(await page.getByRole('listitem').count()).toBe(50);
    // The oldest page ends with the oldest message; from it one can page back up.
    expect(await page.getByRole('listitem').last().textContent()).toContain('The very first message');
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByRole('listitem').filter({ hasText: 'The very first message' }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Older' }).click();
    await oldest.getByRole('link').click();
    await page.getByRole('heading', { name: 'The very first message' }).waitFor();
    await page.getByRole('tabpanel', { name: 'Text' }).getByText('oldest of all').waitFor(); // the list's snippet shows beside it
    await page.close();
  });
});
