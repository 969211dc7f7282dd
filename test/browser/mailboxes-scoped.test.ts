/**
 * A scoped login in the web inbox (issue 16): with `--http-auth-mailboxes`, carol may see only w3.
 * In Chromium, logged in as carol, the sidebar offers only w3, lists and live updates show only
 * w3's mail, and neither a w4 message's address nor `?mailbox=w4` reaches w4. Dave (`*`) sees all.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, recordAddedRows, watchAlarms } from '../helpers/browser.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

let dir: string;
let kotak: RunningKotak;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kotak-scoped-browser-'));
  // Plain-text passwords keep the test fast; the scoping does not depend on the hash kind.
  await writeFile(join(dir, 'users.htpasswd'), 'carol:carol-pass\ndave:dave-pass\n');
  await writeFile(join(dir, 'mailboxes'), '# who sees what\ncarol w3\ndave *\n');
  [kotak, browser] = await Promise.all([
    withKotak({ mailboxRoute: '*@{mailbox}.inbox.test', httpAuth: join(dir, 'users.htpasswd'), httpAuthMailboxes: join(dir, 'mailboxes') }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
  await rm(dir, { recursive: true, force: true });
});

const send = (mailbox: string, subject: string) =>
  transport(kotak).sendMail({ from: 'app@example.com', to: `user@${mailbox}.inbox.test`, subject, text: subject });

const mailboxList = (page: Page) => page.getByRole('navigation', { name: 'Mailboxes, tags and saved searches' }).getByRole('list', { name: 'Mailboxes' });
/** Each mailbox's link text: its name and unread count ("w3, 1 unread", the words around the number visually hidden). */
const optionLabels = (page: Page) => mailboxList(page).getByRole('link').allTextContents();
const rows = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');

async function loggedIn(username: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ httpCredentials: { username, password: `${username}-pass` }, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  return { context, page };
}

async function open(page: Page, path: string): Promise<void> {
  await page.goto(`${kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
}

describe('web inbox with a scoped login', () => {
  it('shows carol only w3: sidebar, list, live updates, a w4 link and ?mailbox=w4', async () => {
    const w4 = await send('w4', 'W4 secret');
    await send('w3', 'W3 first');
    await transport(kotak).sendMail({ from: 'app@example.com', to: 'someone@example.com', subject: 'Default secret', text: 'x' });

    const { context, page } = await loggedIn('carol');
    const alarms = watchAlarms(page);
    await open(page, '/');
    await eventually(() => rows(page).allTextContents()).toEqual([expect.stringContaining('W3 first')]);
    // One mailbox to see leaves nothing to switch between: no mailbox list, as without routing.
    await page.getByRole('navigation', { name: 'Mailboxes, tags and saved searches' }).waitFor();
    expect(await mailboxList(page).count()).toBe(0);

    // Live: every row ever added is recorded; a w4 message sent before a w3 one reaches the same
    // socket first, so once the w3 row shows, the w4 frame (had it come) would have been handled.
    const rowsAdded = await recordAddedRows(page);
    await send('w4', 'W4 later');
    await send('w3', 'W3 second');
    await rows(page).filter({ hasText: 'W3 second' }).waitFor();
    expect(await rowsAdded()).toEqual([expect.stringContaining('W3 second')]);
    await eventually(() => page.title()).toBe('(2) Kotak');

    // Asking for w4 in the URL shows nothing of it.
    await open(page, '/?mailbox=w4');
    await eventually(() => optionLabels(page)).toEqual(['All mailboxes, 2 unread', 'w3, 2 unread', 'w4']);
    await eventually(() => rows(page).count()).toBe(0);
    expect(await page.content()).not.toMatch(/W4 secret|W4 later/);

    // A w4 message's address is "not found", as an unknown id is.
    const w4Id = queuedId(w4.response);
    await page.goto(`${kotak.url}/messages/${w4Id}`);
    await page.getByRole('alert').filter({ hasText: 'Could not open this message' }).waitFor();
    expect(await page.content()).not.toContain('W4 secret');
    expect(alarms.errors.filter((e) => !/404/.test(e))).toEqual([]);
    await context.close();
  });

  it('shows dave (*) every mailbox', async () => {
    const { context, page } = await loggedIn('dave');
    await open(page, '/');
    await eventually(() => optionLabels(page)).toEqual([expect.stringMatching(/^All mailboxes/), 'default, 1 unread', expect.stringMatching(/^w3/), expect.stringMatching(/^w4/)]);
    await rows(page).filter({ hasText: 'W4 secret' }).waitFor();
    await context.close();
  });
});
