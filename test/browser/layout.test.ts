/**
 * The inbox's layout (issue 18) in Chromium at three widths: desktop (1280 px) shows sidebar, list
 * and message at once, and the list keeps its scroll position, cursor and selection while messages
 * open and while new mail arrives; the split between list and message moves by pointer and keys and
 * is remembered; tablet (800 px) keeps list and message side by side with the sidebar as a drawer;
 * phone (390 px) shows the list, then the message in its place, and comes back by its button or the
 * browser's back. Nothing scrolls sideways on any screen. Screenshots: test-artifacts/layout-*.png.
 */
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, screenshot, watchAlarms } from '../helpers/browser.js';
import { getJson, transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

// Mail to *@w3.inbox.test lands in mailbox w3, the rest in default: the sidebar has mailboxes to list.
const env = kotakInChromium({ mailboxRoute: '*@{mailbox}.inbox.test' });

const LONG_URL = `https://example.com/${'a-very-long-path-segment/'.repeat(12)}end`;

beforeAll(async () => {
  // Oldest first: "Row 01" … "Row 40", each its own subject, so the list is taller than the screen
  // (the list renders only the rows on screen: the tests use the newest ones).
  const mailer = transport(env.kotak);
  for (let n = 1; n <= 40; n++) await mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: `Row ${String(n).padStart(2, '0')}`, text: 'row' });
  await transport(env.kotak).sendMail({
    from: 'Sender With A Rather Long Display Name <someone.with.a.long.address@example.com>',
    to: 'user@w3.inbox.test',
    subject: 'Every tab: a message with HTML, a long link and an attachment with a long name',
    text: `Text part with a long link ${LONG_URL}`,
    html: `<p>HTML part</p><p><a href="${LONG_URL}">${LONG_URL}</a></p><table width="900"><tr><td>wide table</td></tr></table>`,
    attachments: [{ filename: 'an-attachment-with-a-very-long-file-name-that-does-not-break-easily-v2-final.pdf', content: Buffer.alloc(1500, 7) }],
  });
});

async function openPage(browser: Browser, width: number, colorScheme: 'light' | 'dark' = 'light'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height: 800 }, colorScheme });
  const page = await context.newPage();
  return { context, page };
}

async function goto(page: Page, path = '/'): Promise<void> {
  await page.goto(`${env.kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
}

const messageList = (page: Page) => page.getByRole('list', { name: 'Messages' });
const row = (page: Page, subject: string) => messageList(page).getByRole('listitem').filter({ hasText: subject });
const cursorRow = (page: Page) => messageList(page).locator('li[aria-current="true"]');
const sidebar = (page: Page) => page.getByRole('navigation', { name: 'Mailboxes, tags and saved searches' });
const drawerButton = (page: Page) => page.getByRole('button', { name: 'Mailboxes, tags and saved searches' });
const separator = (page: Page) => page.getByRole('separator', { name: 'Resize the message list' });
const messageHeading = (page: Page) => page.locator('#message-pane').getByRole('heading', { level: 1 });
const placeholder = (page: Page) => page.getByText('Select a message to read it here.');

/** The page never scrolls sideways (the rendered email may, inside its own frame). */
async function expectNoSidewaysScroll(page: Page, screen: string): Promise<void> {
  const widths = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
  expect(widths[0], `${screen}: scrollWidth ${widths[0]} > innerWidth ${widths[1]}`).toBeLessThanOrEqual(widths[1]);
}

const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

/** No serious or critical axe-core finding (WCAG 2.1 A and AA) on the screen as it is. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  await page.evaluate(axeSource);
  const found = (await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa'] })
    .then((result) => result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)) as string[];
  expect(found, screen).toEqual([]);
}

/** Opens every tab of the open message in turn, checking each for sideways scrolling. */
async function everyTabFits(page: Page, screen: string): Promise<void> {
  const tabs = page.locator('#message-pane').getByRole('tab');
  await tabs.first().waitFor();
  const names = await tabs.allTextContents();
  expect(names.length).toBeGreaterThan(4);
  for (const name of names) {
    const tab = page.locator('#message-pane').getByRole('tab', { name, exact: true });
    await tab.click();
    await eventually(() => tab.getAttribute('aria-selected')).toBe('true');
    await expectNoSidewaysScroll(page, `${screen}, tab ${name}`);
  }
}

/** The element with the keyboard focus: the subject of its message row, or its accessible label. */
const focusedRowText = (page: Page) => page.evaluate('document.activeElement?.closest(".message-list li")?.textContent ?? null') as Promise<string | null>;
/**
 * A sidebar link's accessible name: its text, "w3, 1 unread", with the spacing the name takes from
 * its boxes (the browser puts a space around each flex item, so it reads "w3 , 1 unread").
 */
const entryName = (name: string, count: number, noun: string) => {
  const literal = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(count > 0 ? `^${literal}\\s*,\\s*${count} ${noun}$` : `^${literal}$`);
};
const focusInSidebar = (page: Page) => page.evaluate('Boolean(document.activeElement?.closest("#sidebar"))') as Promise<boolean>;
const focusIsDrawerButton = (page: Page) => page.evaluate('document.activeElement?.getAttribute("aria-controls") === "sidebar"') as Promise<boolean>;
const topOf = async (page: Page, subject: string) => (await row(page, subject).boundingBox())!.y;
/** Where a row is, relative to where it was (scroll positions snap to whole pixels, rows need not). */
const movedBy = async (page: Page, subject: string, was: number) => Math.abs((await topOf(page, subject)) - was);

describe('desktop (1280 px): three panes', () => {
  it('shows sidebar, list and message together; the list keeps scroll, cursor and selection while messages open and mail arrives', async () => {
    const { context, page } = await openPage(env.browser, 1280);
    const alarms = watchAlarms(page);
    await goto(page);
    await row(page, 'Row 40').waitFor();
    await sidebar(page).waitFor();
    expect(await sidebar(page).isVisible()).toBe(true);
    expect(await placeholder(page).isVisible()).toBe(true);
    expect(await drawerButton(page).isVisible()).toBe(false);
    await expectNoSidewaysScroll(page, '1280 list');

    // Scroll the list pane down, select a row, and open a message by mouse.
    await row(page, 'Row 30').evaluate((li) => li.scrollIntoView({ block: 'start' }));
    const scrolledTo = await topOf(page, 'Row 30');
    // The list's box scrolled, not the page: the page is exactly the window's height.
    expect(await page.evaluate('document.documentElement.scrollHeight <= window.innerHeight')).toBe(true);
    await row(page, 'Row 28').getByRole('checkbox').check();
    await row(page, 'Row 29').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toBe('Row 29');
    expect(await placeholder(page).count()).toBe(0);
    expect(await messageList(page).isVisible()).toBe(true);
    expect(await sidebar(page).isVisible()).toBe(true);
    await eventually(() => cursorRow(page).textContent()).toContain('Row 29');
    expect(await movedBy(page, 'Row 30', scrolledTo)).toBeLessThan(1);

    // j/k move the list's cursor with the message open beside it; Enter opens the cursor's message.
    await page.keyboard.press('k');
    await eventually(() => cursorRow(page).textContent()).toContain('Row 30');
    expect(await messageHeading(page).textContent()).toBe('Row 29');
    await page.keyboard.press('Enter');
    await eventually(() => messageHeading(page).textContent()).toBe('Row 30');
    expect(await movedBy(page, 'Row 30', scrolledTo)).toBeLessThan(1);
    expect(await row(page, 'Row 28').getByRole('checkbox').isChecked()).toBe(true);

    // Five new messages arrive above: the list stays where the user is (the cursor's row in view,
    // not back at the top), and cursor, selection and the open message stay.
    for (let n = 1; n <= 5; n++) await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'b@example.test', subject: `New arrival ${n}`, text: 'new' });
    // Above the view, so not rendered: the list's size says they arrived.
    await eventually(async () => Number(await messageList(page).getByRole('listitem').first().getAttribute('aria-setsize'))).toBe(46);
    await eventually(() => cursorRow(page).textContent()).toContain('Row 30');
    const pane = (await page.locator('.pane-list').boundingBox())!;
    const stillThere = (await row(page, 'Row 30').boundingBox())!;
    expect(stillThere.y).toBeGreaterThanOrEqual(pane.y - 1);
    expect(stillThere.y + stillThere.height).toBeLessThanOrEqual(pane.y + pane.height + 1);
    expect(await page.locator('.pane-list .message-scroller').evaluate((el) => el.scrollTop)).toBeGreaterThan(500);
    expect(await row(page, 'Row 28').getByRole('checkbox').isChecked()).toBe(true);
    expect(await messageHeading(page).textContent()).toBe('Row 30');
    await screenshot(page, 'layout-desktop-light');
    await expectAccessible(page, '1280 message open');

    // Esc closes the message and puts the focus on its row; the list has not moved.
    const beforeEscape = await topOf(page, 'Row 30');
    await page.keyboard.press('Escape');
    await placeholder(page).waitFor();
    await eventually(() => focusedRowText(page)).toContain('Row 30');
    expect(await cursorRow(page).textContent()).toContain('Row 30');
    expect(await movedBy(page, 'Row 30', beforeEscape)).toBeLessThan(1);

    // Every tab of a message fits the pane without sideways scrolling (its row is near the top).
    await page.locator('.pane-list .message-scroller').evaluate((el) => el.scrollTo(0, 0));
    await row(page, 'Every tab').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toContain('Every tab');
    await everyTabFits(page, '1280 message');

    // A reload of the message's address shows the same: its list beside it, the cursor on its row.
    await page.reload();
    await eventually(() => messageHeading(page).textContent()).toContain('Every tab');
    await eventually(() => cursorRow(page).textContent()).toContain('Every tab');
    expect(alarms.errors).toEqual([]);
    await context.close();
  });

  it('moves the split by pointer and by keys, within bounds, and remembers it across a reload', async () => {
    const { context, page } = await openPage(env.browser, 1280, 'dark');
    await goto(page);
    await row(page, 'Row 40').waitFor();
    const listPaneWidth = async () => (await page.locator('.pane-list').boundingBox())!.width;
    const start = Number(await separator(page).getAttribute('aria-valuenow'));
    expect(start).toBeGreaterThan(0);
    expect(Math.round(await listPaneWidth())).toBe(start);

    // Drag the separator 100 px to the right.
    const box = (await separator(page).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 200);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 50, box.y + 210);
    await page.mouse.move(box.x + box.width / 2 + 100, box.y + 220);
    await page.mouse.up();
    await eventually(async () => Number(await separator(page).getAttribute('aria-valuenow'))).toBe(start + 100);
    expect(Math.round(await listPaneWidth())).toBe(start + 100);

    // Keys: arrows step, Home and End go to the bounds.
    await separator(page).focus();
    await page.keyboard.press('ArrowLeft');
    await eventually(async () => Number(await separator(page).getAttribute('aria-valuenow'))).toBe(start + 100 - 16);
    await page.keyboard.press('End');
    const max = Number(await separator(page).getAttribute('aria-valuemax'));
    await eventually(async () => Number(await separator(page).getAttribute('aria-valuenow'))).toBe(max);
    // The message keeps room beside the widest list.
    const messagePane = (await page.locator('#message-pane').boundingBox())!;
    expect(messagePane.width).toBeGreaterThanOrEqual(350);
    await page.keyboard.press('Home');
    const min = Number(await separator(page).getAttribute('aria-valuemin'));
    await eventually(async () => Number(await separator(page).getAttribute('aria-valuenow'))).toBe(min);
    expect(min).toBeGreaterThanOrEqual(200);
    await page.keyboard.press('Shift+ArrowRight');
    await eventually(async () => Number(await separator(page).getAttribute('aria-valuenow'))).toBe(min + 64);

    // Remembered: a reload (and a new message open) shows the same split.
    await page.reload();
    await row(page, 'Row 40').waitFor();
    await eventually(async () => Number(await separator(page).getAttribute('aria-valuenow'))).toBe(min + 64);
    expect(Math.round(await listPaneWidth())).toBe(min + 64);
    await row(page, 'Row 39').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toBe('Row 39');
    expect(Math.round(await listPaneWidth())).toBe(min + 64);
    await screenshot(page, 'layout-desktop-dark');
    await context.close();
  });

  it('lists mailboxes with unread counts in the sidebar, and saved searches', async () => {
    const { context, page } = await openPage(env.browser, 1280);
    await goto(page);
    await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'user@w3.inbox.test', subject: 'W3 fresh', text: 'fresh' });
    // Each mailbox's link is named with its unread count, as GET /api/mailboxes has it.
    const { body } = await getJson<{ mailboxes: { name: string; unread: number }[] }>(env.kotak, '/api/mailboxes');
    const expected = [entryName('All mailboxes', body.mailboxes.reduce((sum, m) => sum + m.unread, 0), 'unread'), ...body.mailboxes.map((m) => entryName(m.name, m.unread, 'unread'))];
    expect(body.mailboxes.map((m) => m.name)).toEqual(['default', 'w3']);
    const mailboxes = sidebar(page).getByRole('list', { name: 'Mailboxes' }).getByRole('link');
    await eventually(() => mailboxes.count()).toBe(3);
    for (const name of expected) await sidebar(page).getByRole('link', { name }).waitFor();
    expect((await mailboxes.first().textContent())!.startsWith('All mailboxes')).toBe(true);
    expect(await sidebar(page).getByRole('link', { name: /^All mailboxes/ }).getAttribute('aria-current')).toBe('page');

    await sidebar(page).getByRole('link', { name: /^w3/ }).click();
    await eventually(() => new URL(page.url()).searchParams.get('mailbox')).toBe('w3');
    await eventually(() => messageList(page).getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('W3 fresh'), expect.stringContaining('Every tab')]);
    expect(await sidebar(page).getByRole('link', { name: /^w3/ }).getAttribute('aria-current')).toBe('page');
    expect(await sidebar(page).getByRole('link', { name: /^All mailboxes/ }).getAttribute('aria-current')).toBe(null);

    // Save a search, apply it from the sidebar, remove it; it survives a reload.
    await sidebar(page).getByRole('link', { name: /^All mailboxes/ }).click();
    expect(await sidebar(page).getByRole('button', { name: 'Save this search' }).count()).toBe(0);
    const box = page.getByRole('combobox', { name: 'Search messages' });
    await box.fill('subject:"Row 3"');
    await box.press('Enter');
    await eventually(() => messageList(page).getByRole('listitem').count()).toBe(10);
    await sidebar(page).getByRole('button', { name: 'Save this search' }).click();
    const savedLink = sidebar(page).getByRole('list', { name: 'Saved searches' }).getByRole('link', { name: 'subject:"Row 3"' });
    await savedLink.waitFor();
    expect(await savedLink.getAttribute('aria-current')).toBe('page');
    expect(await sidebar(page).getByRole('button', { name: 'Save this search' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Clear' }).click();
    // The whole list again (rows are rendered only on screen: its size says it).
    await eventually(async () => Number(await messageList(page).getByRole('listitem').first().getAttribute('aria-setsize'))).toBeGreaterThan(40);
    expect(await savedLink.getAttribute('aria-current')).toBe(null);
    await page.reload();
    await savedLink.click();
    await eventually(() => new URL(page.url()).searchParams.get('q')).toBe('subject:"Row 3"');
    await eventually(() => messageList(page).getByRole('listitem').count()).toBe(10);
    expect(await box.inputValue()).toBe('subject:"Row 3"');
    await sidebar(page).getByRole('button', { name: 'Remove saved search subject:"Row 3"' }).click();
    await savedLink.waitFor({ state: 'detached' });
    await context.close();
  });

  it('lists tags with their counts, live; a tag shows its messages', async () => {
    const { context, page } = await openPage(env.browser, 1280);
    await goto(page);
    const tagLinks = sidebar(page).getByRole('list', { name: 'Tags' }).getByRole('link');
    await sidebar(page).getByText('No tags yet').waitFor();
    const idOf = async (subject: string) => (await getJson<{ messages: { id: string }[] }>(env.kotak, `/api/messages?query=${encodeURIComponent(`subject:"${subject}"`)}`)).body.messages[0]!.id;
    const tag = (subject: string, tags: string[]) =>
      idOf(subject).then((id) => getJson(env.kotak, `/api/messages/${id}/tags`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tags }) }));

    // Tags set through the API show up live, each with its count.
    await tag('Row 31', ['billing']);
    await tag('Row 32', ['billing', 'needs review']);
    // A link's name is its text: the visible name and count, with the words around the count hidden.
    await eventually(() => tagLinks.allTextContents()).toEqual(['billing, 2 messages', 'needs review, 1 message']);

    await sidebar(page).getByRole('link', { name: entryName('needs review', 1, 'message') }).click();
    await eventually(() => new URL(page.url()).searchParams.get('q')).toBe('tag:"needs review"');
    await eventually(() => messageList(page).getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('Row 32')]);
    await sidebar(page).getByRole('link', { name: entryName('billing', 2, 'messages') }).click();
    await eventually(() => new URL(page.url()).searchParams.get('q')).toBe('tag:billing');
    await eventually(() => messageList(page).getByRole('listitem').count()).toBe(2);
    expect(await sidebar(page).getByRole('link', { name: entryName('billing', 2, 'messages') }).getAttribute('aria-current')).toBe('page');

    // Another tagged message: the count and the list follow.
    await tag('Row 33', ['billing']);
    await sidebar(page).getByRole('link', { name: entryName('billing', 3, 'messages') }).waitFor();
    await eventually(() => messageList(page).getByRole('listitem').count()).toBe(3);
    await screenshot(page, 'layout-desktop-tags');
    await expectAccessible(page, '1280 tags and saved searches');
    await context.close();
  });
});

describe('tablet (800 px): list and message side by side, sidebar as a drawer', () => {
  it('opens the drawer from the topbar, moves focus into it and back, closes by Esc and by a click outside', async () => {
    const { context, page } = await openPage(env.browser, 800, 'dark');
    await goto(page);
    await row(page, 'Row 40').waitFor();
    expect(await sidebar(page).isVisible()).toBe(false);
    await expectNoSidewaysScroll(page, '800 list');

    await row(page, 'Row 36').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toBe('Row 36');
    const list = (await page.locator('.pane-list').boundingBox())!;
    const message = (await page.locator('#message-pane').boundingBox())!;
    expect(await messageList(page).isVisible()).toBe(true);
    expect(list.x + list.width).toBeLessThanOrEqual(message.x);
    expect(message.x + message.width).toBeLessThanOrEqual(800);
    await screenshot(page, 'layout-tablet-dark');

    // The drawer: focus moves in; Esc closes it (and not the message behind it), focus returns.
    await drawerButton(page).click();
    await sidebar(page).waitFor();
    expect(await drawerButton(page).getAttribute('aria-expanded')).toBe('true');
    await eventually(() => focusInSidebar(page)).toBe(true);
    await expectNoSidewaysScroll(page, '800 drawer open');
    await screenshot(page, 'layout-tablet-drawer');
    await expectAccessible(page, '800 drawer open');
    await page.keyboard.press('Escape');
    await sidebar(page).waitFor({ state: 'hidden' });
    await eventually(() => focusIsDrawerButton(page)).toBe(true);
    expect(await messageHeading(page).textContent()).toBe('Row 36');

    // A click outside closes it too.
    await drawerButton(page).click();
    await sidebar(page).waitFor();
    await page.mouse.click(700, 400);
    await sidebar(page).waitFor({ state: 'hidden' });
    await eventually(() => focusIsDrawerButton(page)).toBe(true);
    expect(await drawerButton(page).getAttribute('aria-expanded')).toBe('false');
    // Closed again before the next frame (a quick double press): the focus still ends on the button.
    await page.evaluate(`(async () => {
      document.querySelector('.drawer-toggle').click();
      await Promise.resolve();
      await Promise.resolve();
      document.querySelector('.drawer-backdrop').click();
    })()`);
    await sidebar(page).waitFor({ state: 'hidden' });
    await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
    expect(await focusIsDrawerButton(page)).toBe(true);

    // Choosing a mailbox in the drawer shows it and closes the drawer.
    await drawerButton(page).click();
    await sidebar(page).getByRole('link', { name: /^w3/ }).click();
    await eventually(() => new URL(page.url()).searchParams.get('mailbox')).toBe('w3');
    await sidebar(page).waitFor({ state: 'hidden' });

    await row(page, 'Every tab').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toContain('Every tab');
    await everyTabFits(page, '800 message');
    await context.close();
  });
});

describe('phone (390 px): one pane at a time', () => {
  it('opens a message in place of the list; its back button and the browser back return to the row', async () => {
    const { context, page } = await openPage(env.browser, 390);
    await goto(page);
    await row(page, 'Row 40').waitFor();
    expect(await page.locator('#message-pane').isVisible()).toBe(false);
    expect(await separator(page).isVisible()).toBe(false);
    await expectNoSidewaysScroll(page, '390 list');
    await screenshot(page, 'layout-phone-list');

    await row(page, 'Row 38').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toBe('Row 38');
    expect(await messageList(page).isVisible()).toBe(false);
    // The focus was on the row, now hidden: the message takes it.
    await eventually(() => page.evaluate('document.activeElement?.id')).toBe('message-pane');
    await expectNoSidewaysScroll(page, '390 message');
    await screenshot(page, 'layout-phone-message');

    // The message's own back button.
    await page.locator('#message-pane').getByRole('button', { name: /Inbox/ }).click();
    await messageList(page).waitFor();
    await eventually(() => cursorRow(page).textContent()).toContain('Row 38');
    expect(await page.locator('#message-pane').isVisible()).toBe(false);

    // The browser's back (the back gesture), after opening another message.
    await row(page, 'Row 39').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toBe('Row 39');
    await page.goBack();
    await messageList(page).waitFor();
    await eventually(() => cursorRow(page).textContent()).toContain('Row 39');
    await eventually(() => focusedRowText(page)).toContain('Row 39');

    // The drawer on a phone.
    await drawerButton(page).click();
    await sidebar(page).waitFor();
    await expectNoSidewaysScroll(page, '390 drawer open');
    await screenshot(page, 'layout-phone-drawer');
    await expectAccessible(page, '390 drawer open');
    await page.keyboard.press('Escape');
    await sidebar(page).waitFor({ state: 'hidden' });

    await row(page, 'Every tab').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toContain('Every tab');
    await everyTabFits(page, '390 message');
    await context.close();
  });
});

describe('narrow window (600 px): one pane at a time, as on a phone', () => {
  it('opens a message in place of the list rather than squeezing both into 300 px each', async () => {
    const { context, page } = await openPage(env.browser, 600);
    await goto(page);
    await row(page, 'Row 40').waitFor();
    expect(await page.locator('#message-pane').isVisible()).toBe(false);
    await row(page, 'Row 38').getByRole('link').click();
    await eventually(() => messageHeading(page).textContent()).toBe('Row 38');
    expect(await messageList(page).isVisible()).toBe(false);
    expect((await page.locator('#message-pane').boundingBox())!.width).toBeGreaterThan(550);
    await eventually(() => page.evaluate('document.activeElement?.id')).toBe('message-pane');
    await expectNoSidewaysScroll(page, '600 message');
    await screenshot(page, 'layout-narrow-message');
    await page.locator('#message-pane').getByRole('button', { name: /Inbox/ }).click();
    await eventually(() => cursorRow(page).textContent()).toContain('Row 38');
    await context.close();
  });
});
