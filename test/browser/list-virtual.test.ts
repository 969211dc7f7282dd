/**
 * The virtualised message list (issue 18) with a few thousand messages: one list scrolls through
 * the whole result while the DOM holds only the rows on screen; the keyboard reaches both ends;
 * new mail arriving while scrolled down leaves the rows on screen where they are; selection and
 * bulk actions work on rows deep in the list. Every wait is on something the page shows.
 */
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { getJson, transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { seedMessages, simpleMessage } from '../helpers/seed.js';
import { sendRaw } from '../helpers/smtp-client.js';

const COUNT = 3000;
const env = kotakInChromium();

beforeAll(async () => {
  // The oldest first, on its own, so it is unambiguously the last row.
  await sendRaw(env.kotak.smtpPort, simpleMessage('The very first message', 'oldest of all'));
  await seedMessages(env.kotak.smtpPort, COUNT - 1, (i) => simpleMessage(`Bulk message ${String(i).padStart(5, '0')}`));
}, 120_000);

const list = (page: Page) => page.getByRole('list', { name: 'Messages' });
const rows = (page: Page) => list(page).getByRole('listitem');
const current = (page: Page) => page.locator('.message-list li[aria-current="true"]');
const scroller = (page: Page) => page.locator('.message-scroller');

/** Scrolls the list's own box to a pixel offset (the page functions run in the browser). */
const scrollListTo = (page: Page, top: number | 'end') =>
  scroller(page).evaluate((element, to) => {
    const box = element as unknown as { scrollTop: number; scrollHeight: number };
    box.scrollTop = to === 'end' ? box.scrollHeight : to;
  }, top);

/**
 * True once the list has drawn the rows for where it is scrolled to, all loaded: the row in the
 * middle of the list's box carries a message id and no placeholder is left. (No placeholders alone
 * is not enough: right after a scroll the rows of the previous place are still there, all loaded.)
 */
const loadedWhereScrolled = (page: Page) =>
  scroller(page).evaluate((element) => {
    const box = (element as unknown as { getBoundingClientRect(): { left: number; top: number; width: number; height: number } }).getBoundingClientRect();
    const doc = (element as unknown as { ownerDocument: { elementFromPoint(x: number, y: number): { closest(s: string): { getAttribute(n: string): string | null } | null } | null; querySelector(s: string): unknown } }).ownerDocument;
    const middle = doc.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)?.closest('.message-list li');
    return Boolean(middle?.getAttribute('data-id')) && doc.querySelector('.message-list li.placeholder') === null;
  });

const topOf = (row: Locator) => row.evaluate((element) => (element as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top);

async function openInbox(): Promise<Page> {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(env.kotak.url);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  const { body } = await getJson<{ total: number }>(env.kotak, '/api/messages?limit=1');
  await page.getByText(`${body.total.toLocaleString('en-US')} messages`).waitFor();
  return page;
}

describe('the virtualised message list', () => {
  it('scrolls through the whole result to the oldest message with only the rows on screen in the DOM', async () => {
    const page = await openInbox();
    await rows(page).first().waitFor();
    const first = rows(page).first();
    expect(await first.getAttribute('aria-setsize')).toBe(String(COUNT));
    expect(await first.getAttribute('aria-posinset')).toBe('1');
    expect(await rows(page).count()).toBeLessThan(60);

    // Step by step through the first rows (pages fetched as they come into view), then the end.
    for (const top of [2000, 6000, 20_000]) {
      await scrollListTo(page, top);
      await eventually(() => loadedWhereScrolled(page)).toBe(true);
      expect(await rows(page).count()).toBeLessThan(60);
    }
    await scrollListTo(page, 'end');
    const oldest = rows(page).filter({ hasText: 'The very first message' });
    await oldest.waitFor();
    expect(await oldest.getAttribute('aria-posinset')).toBe(String(COUNT));
    expect(await rows(page).count()).toBeLessThan(60);

    await oldest.getByRole('link').click();
    await page.getByRole('heading', { name: 'The very first message' }).waitFor();
    await page.getByRole('tabpanel', { name: 'Text' }).getByText('oldest of all').waitFor();
    await page.close();
  });

  it('moves the cursor by keyboard to both ends and by pages, scrolling it into view', async () => {
    const page = await openInbox();
    await eventually(() => current(page).getAttribute('aria-posinset')).toBe('1');
    await page.keyboard.press('End');
    await eventually(() => current(page).textContent()).toContain('The very first message');
    expect(await current(page).getAttribute('aria-posinset')).toBe(String(COUNT));
    await current(page).filter({ hasText: 'The very first message' }).waitFor({ state: 'visible' });
    expect(await rows(page).count()).toBeLessThan(60);

    await page.keyboard.press('PageUp');
    const afterPageUp = Number(await current(page).getAttribute('aria-posinset'));
    expect(afterPageUp).toBeLessThan(COUNT - 5);
    await page.keyboard.press('k');
    await eventually(() => current(page).getAttribute('aria-posinset')).toBe(String(afterPageUp - 1));
    await page.keyboard.press('ArrowDown');
    await eventually(() => current(page).getAttribute('aria-posinset')).toBe(String(afterPageUp));

    await page.keyboard.press('Home');
    await eventually(() => current(page).getAttribute('aria-posinset')).toBe('1');
    await page.keyboard.press('PageDown');
    await eventually(async () => Number(await current(page).getAttribute('aria-posinset'))).toBeGreaterThan(5);
    // Enter opens the row under the cursor (once loaded); Escape comes back with the cursor on it.
    await current(page).and(page.locator('[data-id]')).waitFor();
    const chosen = (await current(page).getAttribute('data-id'))!;
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/messages/${chosen}`));
    // The message view handles Escape once it is shown (a key pressed before then is nobody's).
    await page.getByRole('tablist', { name: 'Message parts' }).waitFor();
    await page.keyboard.press('Escape');
    await eventually(() => current(page).getAttribute('data-id')).toBe(chosen);
    await page.close();
  });

  it('keeps the rows on screen still when new mail arrives while scrolled down, and shows it on top', async () => {
    const page = await openInbox();
    await rows(page).first().waitFor();
    await scrollListTo(page, 30_000);
    await eventually(() => loadedWhereScrolled(page)).toBe(true);
    // A row well inside the view, and where it is on screen.
    const watched = rows(page).nth(10);
    const id = (await watched.getAttribute('data-id'))!;
    const position = await watched.getAttribute('aria-posinset');
    const row = list(page).locator(`li[data-id="${id}"]`);
    const before = await topOf(row);

    await transport(env.kotak).sendMail({ from: 'late@example.com', to: 'dev@example.com', subject: 'Arrived while scrolled down', text: 'new' });
    await page.getByText(`${(COUNT + 1).toLocaleString('en-US')} messages`).waitFor();
    // The row moved one place down the list, and the list scrolled with it: it did not move on screen.
    await eventually(() => row.getAttribute('aria-posinset')).toBe(String(Number(position) + 1));
    expect(Math.abs((await topOf(row)) - before)).toBeLessThan(1);

    await scrollListTo(page, 0);
    await eventually(() => rows(page).first().textContent()).toContain('Arrived while scrolled down');
    await page.close();
  });

  it('selects rows deep in the list and marks them read, then deletes them', async () => {
    const page = await openInbox();
    await rows(page).first().waitFor();
    await scrollListTo(page, 50_000);
    // Rows about 860 rows down (50,000 px of 58 px rows), by their place in the list, once loaded.
    const ids: string[] = [];
    for (const position of [866, 868]) {
      const loaded = list(page).locator(`li[aria-posinset="${position}"][data-id]`);
      await loaded.waitFor();
      ids.push((await loaded.getAttribute('data-id'))!);
    }
    for (const id of ids) await list(page).locator(`li[data-id="${id}"]`).getByRole('checkbox').check();
    await page.getByText('2 selected').waitFor();
    await page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Mark read', exact: true }).click();
    for (const id of ids) await eventually(() => list(page).locator(`li[data-id="${id}"]`).getAttribute('class')).toMatch(/\bread\b/);

    const { body: beforeDelete } = await getJson<{ total: number }>(env.kotak, '/api/messages?limit=1');
    await page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
    for (const id of ids) await list(page).locator(`li[data-id="${id}"]`).waitFor({ state: 'detached' });
    await page.getByText(`${(beforeDelete.total - 2).toLocaleString('en-US')} messages`).waitFor();
    for (const id of ids) expect((await getJson(env.kotak, `/api/messages/${id}`)).status).toBe(404);
    await page.close();
  });

  it('still opens the old page links: ?after=0 at the oldest message, ?cursor= at the top, each leaving the URL', async () => {
    const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${env.kotak.url}/?after=0`);
    await eventually(() => current(page).textContent()).toContain('The very first message');
    expect(new URL(page.url()).search).toBe('');
    await page.goto(`${env.kotak.url}/?cursor=1500`);
    await eventually(() => current(page).getAttribute('aria-posinset')).toBe('1');
    expect(new URL(page.url()).search).toBe('');
    await page.close();
  });

  it('forgets the selection when the list changes, so a bulk action never reaches rows no longer shown', async () => {
    const page = await openInbox();
    await rows(page).first().getByRole('checkbox').check();
    await page.getByText('1 selected').waitFor();
    const deleteButton = page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Delete', exact: true });
    expect(await deleteButton.isEnabled()).toBe(true);
    // A list of another row (the selected one is the newest): nothing of it is selected.
    await page.getByRole('combobox', { name: 'Search messages' }).fill('subject:"Bulk message 00001"');
    await page.getByRole('combobox', { name: 'Search messages' }).press('Enter');
    await page.getByText('1 message match').waitFor();
    await page.getByText('1 selected').waitFor({ state: 'detached' });
    expect(await deleteButton.isDisabled()).toBe(true);
    await page.close();
  });
});
