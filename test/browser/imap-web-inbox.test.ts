/**
 * Flags between an IMAP client and the web inbox in Chromium, both ways and live (issue 21): a
 * `\Seen` and a keyword stored over IMAP turn the row read and show the tag without a reload; a
 * message opened in the inbox, a tag removed there and "Mark unread" reach an idling IMAP session
 * as untagged FETCH responses.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, watchAlarms } from '../helpers/browser.js';
import { ImapTestClient } from '../helpers/imap.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { transport } from '../helpers/kotak.js';

const env = kotakInChromium({ imap: '127.0.0.1:0', imapAuth: 'any' });
const clients: ImapTestClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

async function openInbox(): Promise<Page> {
  const page = await env.browser.newPage();
  await page.goto(env.kotak.url);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  return page;
}

const row = (page: Page, subject: string) => page.getByRole('listitem').filter({ hasText: subject });

/** Logged in with INBOX selected. */
async function imapSession(): Promise<ImapTestClient> {
  const imap = await ImapTestClient.connect(env.kotak.imapPort!);
  clients.push(imap);
  await imap.readResponse();
  expect((await imap.command('a1', 'LOGIN tester anything')).tagged).toMatch(/^a1 OK/);
  expect((await imap.command('a2', 'SELECT INBOX')).tagged).toMatch(/^a2 OK/);
  return imap;
}

/** The sequence number of the message with this subject in the selected folder. */
async function sequenceOf(imap: ImapTestClient, subject: string): Promise<number> {
  const { untagged } = await imap.command('s1', `SEARCH SUBJECT "${subject}"`);
  const numbers = untagged.find((line) => line.startsWith('* SEARCH'))!.split(' ').slice(2).map(Number);
  expect(numbers).toHaveLength(1);
  return numbers[0]!;
}

async function idle(imap: ImapTestClient): Promise<void> {
  imap.write('i1 IDLE\r\n');
  await imap.readUntil(/^\+ /);
}

describe('IMAP flags in the web inbox', () => {
  it('an IMAP \\Seen and keyword show in the list live', async () => {
    const page = await openInbox();
    const alarms = watchAlarms(page);
    await transport(env.kotak).sendMail({ from: 'shop@example.com', to: 'dev@example.com', subject: 'Seen over IMAP', text: 'hello' });
    await row(page, 'Seen over IMAP').waitFor();
    expect(await row(page, 'Seen over IMAP').getAttribute('class')).toContain('unread');

    const imap = await imapSession();
    const n = await sequenceOf(imap, 'Seen over IMAP');
    expect((await imap.command('f1', `STORE ${n} +FLAGS (\\Seen Urgent)`)).tagged).toMatch(/^f1 OK/);
    await eventually(async () => row(page, 'Seen over IMAP').getAttribute('class')).not.toContain('unread');
    await row(page, 'Seen over IMAP').getByText('Urgent').waitFor();
    expect(alarms).toEqual({ dialogs: [], errors: [] });
    await page.close();
  });

  it('a message opened, a tag removed and "Mark unread" in the inbox reach an idling IMAP client', async () => {
    await transport(env.kotak).sendMail({ from: 'shop@example.com', to: 'dev@example.com', subject: 'Opened in the browser', text: 'hello', headers: { 'X-Tags': 'Invoice' } });
    const imap = await imapSession();
    const n = await sequenceOf(imap, 'Opened in the browser');
    const { untagged } = await imap.command('f0', `FETCH ${n} FLAGS`);
    expect(untagged.join('\n')).toMatch(/FLAGS \(Invoice\)/);
    await idle(imap);

    const page = await openInbox();
    const alarms = watchAlarms(page);
    await row(page, 'Opened in the browser').click();
    await page.getByRole('heading', { name: 'Opened in the browser' }).waitFor();
    const seen = await imap.readUntil(new RegExp(`^\\* ${n} FETCH .*\\\\Seen`));
    expect(seen.at(-1)).toMatch(/Invoice/);

    await page.getByRole('button', { name: 'Remove tag Invoice' }).click();
    const untaggedAfterRemove = await imap.readUntil(new RegExp(`^\\* ${n} FETCH `));
    expect(untaggedAfterRemove.at(-1)).toMatch(/FLAGS \(\\Seen\)/);

    await page.locator('#message-pane').getByRole('button', { name: 'Mark unread' }).click();
    const unread = await imap.readUntil(new RegExp(`^\\* ${n} FETCH `));
    expect(unread.at(-1)).toMatch(/FLAGS \(\)/);

    imap.write('DONE\r\n');
    await imap.readUntil(/^i1 OK/);
    expect(alarms).toEqual({ dialogs: [], errors: [] });
    await page.close();
  });
});
