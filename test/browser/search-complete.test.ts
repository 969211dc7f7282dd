/**
 * The search box completes operators and their values (issue 18): an ARIA combobox with a listbox
 * popup, driven by the keyboard (↓/↑, Enter, Tab, Escape) and by the mouse; a bad query still
 * says why. Every wait is on something the page shows.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { getJson, transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();

beforeAll(async () => {
  const mailer = transport(env.kotak);
  await mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'Plain note', text: 'no files' });
  await mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'With a file', text: 'see file', attachments: [{ filename: 'a.txt', content: 'x' }] });
});

const box = (page: Page) => page.getByRole('combobox', { name: 'Search messages' });
const suggestions = (page: Page) => page.getByRole('listbox', { name: 'Search suggestions' });
const rows = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');

async function openInbox(): Promise<Page> {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(env.kotak.url);
  await eventually(() => rows(page).count()).toBe(2);
  return page;
}

describe('search completion', () => {
  it('completes an operator and its value by keyboard, with the combobox ARIA kept up to date', async () => {
    const page = await openInbox();
    await box(page).click();
    expect(await box(page).getAttribute('aria-expanded')).toBe('false');
    // The popup exists (hidden) from the start, so aria-controls always names an element.
    expect(await box(page).getAttribute('aria-controls')).toBe(await page.locator('[role="listbox"]').getAttribute('id'));
    await page.keyboard.type('ha');
    await suggestions(page).getByRole('option', { name: /^has:/ }).waitFor();
    expect(await box(page).getAttribute('aria-expanded')).toBe('true');
    expect(await box(page).getAttribute('aria-activedescendant')).toBeNull();

    await page.keyboard.press('ArrowDown');
    const active = await box(page).getAttribute('aria-activedescendant');
    expect(await page.locator(`#${active}`).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator(`#${active}`).textContent()).toContain('has:');
    await page.keyboard.press('Enter');
    await eventually(() => box(page).inputValue()).toBe('has:');
    // The value list follows at once; Tab takes the first.
    await suggestions(page).getByRole('option', { name: /^has:attachment/ }).waitFor();
    await page.keyboard.press('Tab');
    await eventually(() => box(page).inputValue()).toBe('has:attachment ');
    await eventually(() => rows(page).allTextContents()).toEqual([expect.stringContaining('With a file')]);
    await eventually(() => new URL(page.url()).searchParams.get('q')).toBe('has:attachment');
    // Focus stayed in the box throughout.
    expect(await box(page).evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);

    // Escape closes the list and keeps the text; ↑ wraps to the last suggestion.
    await page.keyboard.type('is:');
    await suggestions(page).getByRole('option').first().waitFor();
    await page.keyboard.press('ArrowUp');
    expect(await page.locator(`#${await box(page).getAttribute('aria-activedescendant')}`).textContent()).toContain('is:tagged');
    await page.keyboard.press('Escape');
    await eventually(() => box(page).getAttribute('aria-expanded')).toBe('false');
    expect(await suggestions(page).isHidden()).toBe(true);
    expect(await box(page).inputValue()).toBe('has:attachment is:');
    await page.close();
  });

  it('completes by mouse, offers the mailboxes, and a bad query still says why', async () => {
    const page = await openInbox();
    await box(page).click();
    await page.keyboard.type('mailbox:');
    await suggestions(page).getByRole('option', { name: /^mailbox:default/ }).waitFor();
    await page.keyboard.press('Control+a');
    await page.keyboard.type('is:');
    await suggestions(page).getByRole('option', { name: /^is:unread/ }).click();
    await eventually(() => box(page).inputValue()).toBe('is:unread ');
    await eventually(() => new URL(page.url()).searchParams.get('q')).toBe('is:unread');
    await eventually(() => rows(page).count()).toBe(2);

    await page.keyboard.type('subject:"open');
    await page.getByRole('alert').filter({ hasText: 'unterminated quote' }).waitFor();
    expect(await box(page).getAttribute('aria-invalid')).toBe('true');
    expect(await box(page).getAttribute('aria-describedby')).toBe('search-error');
    await page.close();
  });

  it('offers a tag that appears while the user is typing, without waiting for another key', async () => {
    const page = await openInbox();
    const { body } = await getJson<{ messages: { id: string }[] }>(env.kotak, '/api/messages?limit=1');
    const tag = (name: string) =>
      getJson(env.kotak, `/api/messages/${body.messages[0]!.id}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: [name] }) });
    await box(page).click();
    await page.keyboard.type('tag:fre');
    // No tag yet: nothing to offer.
    expect(await box(page).getAttribute('aria-expanded')).toBe('false');
    // A tag is added elsewhere (another tab, a test, the API) while the text waits in the box.
    await tag('fresh-one');
    await suggestions(page).getByRole('option', { name: /^tag:fresh-one/ }).waitFor();
    expect(await box(page).inputValue()).toBe('tag:fre');

    // Once the user has closed the list, a new tag does not open it again.
    await page.keyboard.press('Escape');
    await eventually(() => box(page).getAttribute('aria-expanded')).toBe('false');
    await tag('fresh-two');
    await page.getByRole('navigation').getByRole('link', { name: /fresh-two/ }).waitFor();
    expect(await box(page).getAttribute('aria-expanded')).toBe('false');
    await page.close();
  });
});
