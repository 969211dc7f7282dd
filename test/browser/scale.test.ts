/**
 * The inbox with 20,000 stored messages: one scrolling list of them all, only the rows on screen
 * in the DOM, and the oldest message is reachable (End) and opens; a search of them all counts
 * only so far ("At least …") and grows as it is scrolled, to the exact end.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium } from '../helpers/browser.js';
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
  it('renders only the rows on screen, reaches the oldest message by keyboard and opens it', async () => {
    const page = await browser.newPage();
    await page.goto(kotak.url);
    await page.getByText(`${COUNT.toLocaleString('en-US')} messages`).waitFor();
    await page.getByRole('listitem').first().waitFor();
    expect(await page.getByRole('listitem').count()).toBeLessThan(60);
    expect(await page.getByRole('listitem').first().getAttribute('aria-setsize')).toBe(String(COUNT));

    await page.keyboard.press('End');
    const oldest = page.getByRole('listitem').filter({ hasText: 'The very first message' });
    await oldest.waitFor();
    expect(await page.getByRole('listitem').count()).toBeLessThan(60);
    // The end of the list is the oldest message, and the list knows its place in the whole.
    expect(await page.getByRole('listitem').last().textContent()).toContain('The very first message');
    expect(await oldest.getAttribute('aria-posinset')).toBe(String(COUNT));
    await oldest.getByRole('link').click();
    await page.getByRole('heading', { name: 'The very first message' }).waitFor();
    await page.getByRole('tabpanel', { name: 'Text' }).getByText('oldest of all').waitFor(); // the list's snippet shows beside it
    await page.close();
  });

  it('searches them with a count that stops at its bound and grows as the list is scrolled, to the exact end', async () => {
    const page = await browser.newPage();
    await page.goto(`${kotak.url}/?q=bulk`);
    const count = page.locator('p.count');
    await eventually(() => count.textContent()).toMatch(/^At least [\d,]+ messages match$/);
    // Each End lands on the last row counted; the page there counts further, until the end is in sight.
    // One read per turn: the count may change between two reads (it did under load), and the
    // text compared after End must be the one the turn began with.
    for (let presses = 0, before = await count.textContent(); before!.startsWith('At least'); presses++, before = await count.textContent()) {
      expect(presses).toBeLessThan(40);
      await page.keyboard.press('End');
      await eventually(() => count.textContent()).not.toBe(before);
    }
    expect(await count.textContent()).toBe(`${(COUNT - 1).toLocaleString('en-US')} messages match`);
    await page.keyboard.press('End');
    await page.getByRole('listitem').filter({ hasText: 'Bulk message 00000' }).waitFor();
    expect(await page.getByRole('listitem').last().getAttribute('aria-posinset')).toBe(String(COUNT - 1));
    await page.close();
  });
});
