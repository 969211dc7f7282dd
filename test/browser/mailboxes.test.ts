/**
 * The web inbox's mailboxes (the sidebar's list) in a real Chromium: Kotak routes `*@{mailbox}.inbox.test`, so
 * mail to w3 and w4 lands in two mailboxes. Every wait is on something the page shows.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, recordAddedRows, screenshot } from '../helpers/browser.js';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let kotak: RunningKotak;
let browser: Browser;

beforeAll(async () => {
  [kotak, browser] = await Promise.all([withKotak({ mailboxRoute: '*@{mailbox}.inbox.test' }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
});

const send = (mailbox: string, subject: string) =>
  transport(kotak).sendMail({ from: 'app@example.com', to: `user@${mailbox}.inbox.test`, subject, text: subject });

async function openInbox(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  return page;
}

const mailboxLinks = (page: Page) => page.getByRole('navigation', { name: 'Mailboxes, tags and saved searches' }).getByRole('list', { name: 'Mailboxes' }).getByRole('link');
/** Each mailbox's link text: its name and unread count ("w3, 1 unread", the words around the number visually hidden). */
const optionLabels = (page: Page) => mailboxLinks(page).allTextContents();
const mailboxLink = (page: Page, name: string) => mailboxLinks(page).filter({ has: page.locator(`.sidebar-name:text-is("${name}")`) });
const rows = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');
const unreadIn = async (mailbox: string): Promise<number> =>
  (await getJson<{ mailboxes: { name: string; unread: number }[] }>(kotak, '/api/mailboxes')).body.mailboxes.find((m) => m.name === mailbox)?.unread ?? -1;

describe('web inbox mailboxes', () => {
  it('switches mailbox: only its messages, the mailbox in the URL across a reload, counts live, bulk actions scoped', async () => {
    await send('w3', 'W3 first');
    await send('w4', 'W4 first');

    const page = await openInbox('/');
    // Every mailbox, with unread counts; "All" lists both messages.
    await eventually(() => optionLabels(page)).toEqual(['All mailboxes, 2 unread', 'default', 'w3, 1 unread', 'w4, 1 unread']);
    await rows(page).filter({ hasText: 'W4 first' }).waitFor();
    await rows(page).filter({ hasText: 'W3 first' }).waitFor();

    await mailboxLink(page, 'w3').click();
    await eventually(() => new URL(page.url()).searchParams.get('mailbox')).toBe('w3');
    await eventually(() => rows(page).allTextContents()).toEqual([expect.stringContaining('W3 first')]);
    await eventually(() => page.title()).toBe('(1) Kotak');

    // A reload keeps the mailbox (it is in the URL) and the sidebar shows it chosen.
    await page.reload();
    await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
    await eventually(() => mailboxLink(page, 'w3').getAttribute('aria-current')).toBe('page');
    await eventually(() => rows(page).allTextContents()).toEqual([expect.stringContaining('W3 first')]);

    // New mail in w4: its count goes up live, and the w3 list does not show it. The later w3 message
    // comes over the same socket after the w4 one, so once it shows, the w4 frame has been handled.
    // Not even for a moment (a later reload would hide that): every row ever added is recorded.
    const rowsAdded = await recordAddedRows(page);
    await send('w4', 'W4 second');
    await eventually(() => optionLabels(page)).toContain('w4, 2 unread');
    await send('w3', 'W3 second');
    await rows(page).filter({ hasText: 'W3 second' }).waitFor();
    expect(await rows(page).allTextContents()).toEqual([expect.stringContaining('W3 second'), expect.stringContaining('W3 first')]);
    expect(await rowsAdded()).toEqual([expect.stringContaining('W3 second')]);
    await eventually(() => optionLabels(page)).toContain('w3, 2 unread');
    await screenshot(page, 'inbox-mailbox-w3');

    // "Mark all read" and "Delete all" act on w3 alone.
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await eventually(() => optionLabels(page)).toContain('w3');
    expect(await unreadIn('w3')).toBe(0);
    expect(await unreadIn('w4')).toBe(2);
    await page.getByRole('button', { name: 'Delete all' }).click();
    await page.getByRole('alertdialog', { name: 'Delete all 2 messages in w3?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'No messages in w3' }).waitFor();
    const w4 = await getJson<{ total: number }>(kotak, '/api/messages?mailbox=w4');
    expect(w4.body.total).toBe(2);

    // Back to every mailbox, by keyboard: the link is named, Enter follows it.
    await mailboxLink(page, 'All mailboxes').focus();
    await page.keyboard.press('Enter');
    await eventually(() => new URL(page.url()).searchParams.has('mailbox')).toBe(false);
    await eventually(() => rows(page).count()).toBe(2);
    await page.close();
  });

  it('an invalid mailbox in the URL says why instead of blaming the search', async () => {
    const page = await openInbox('/?mailbox=Not%20A%20Name');
    await page.getByRole('alert').filter({ hasText: 'Could not load messages' }).waitFor();
    expect(await page.getByText('Invalid search').count()).toBe(0);
    await page.close();
  });
});
