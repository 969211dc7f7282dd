/**
 * The refused-attempt banner in Chromium: a message a chaos rule refused shows above the list
 * (live, through the `chaos:refused` frame, without a reload), with the client's reply, sender
 * and recipient; the mailbox view shows only its own; Dismiss forgets them; a stored message is
 * still a row of the list.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot, watchAlarms } from '../helpers/browser.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { getJson, transport } from '../helpers/kotak.js';

const env = kotakInChromium({ mailboxRoute: '*@{mailbox}.inbox.test', chaosRule: 'rcpt to=bounce*@w1.inbox.test reply=550:5.1.1:"no such user"; end to=drop*@w2.inbox.test drop' });

async function openInbox(path = '/'): Promise<Page> {
  const page = await env.browser.newPage();
  await page.goto(`${env.kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  return page;
}

const banner = (page: Page) => page.getByRole('status', { name: 'Refused by chaos rules' });

async function send(to: string): Promise<void> {
  await transport(env.kotak).sendMail({ from: 'app@shop.test', to, subject: 'Order', text: 'thanks' }).catch(() => undefined);
}

describe('refused attempts in the inbox', () => {
  it('appear live above the list, per mailbox, and go on Dismiss', async () => {
    const page = await openInbox('/?mailbox=w1');
    const alarms = watchAlarms(page);
    await expect.poll(() => banner(page).count()).toBe(0);
    await send('bounce-alice@w1.inbox.test');
    await banner(page).waitFor();
    const text = await banner(page).innerText();
    expect(text).toMatch(/1 message refused by chaos rules/);
    expect(text).toContain('550 5.1.1 no such user');
    expect(text).toContain('app@shop.test → bounce-alice@w1.inbox.test');
    expect(text).toMatch(/at RCPT/);
    // A message that was stored is a row, as ever.
    await send('bob@w1.inbox.test');
    await page.getByRole('list', { name: 'Messages' }).getByText('Order').waitFor();
    // Another mailbox's refusal is not shown here, but is in that mailbox's view.
    await send('drop-carol@w2.inbox.test');
    await expect.poll(async () => (await getJson(env.kotak, '/api/chaos/refusals')).body.total).toBe(2);
    await send('bounce-dave@w1.inbox.test');
    await eventually(async () => banner(page).innerText()).toMatch(/2 messages refused by chaos rules/);
    expect(await banner(page).innerText()).not.toContain('drop-carol@w2.inbox.test');
    await screenshot(page, 'chaos-refusals');

    const w2 = await openInbox('/?mailbox=w2');
    await banner(w2).waitFor();
    expect(await banner(w2).innerText()).toMatch(/connection dropped at end of data: app@shop\.test → drop-carol@w2\.inbox\.test/);
    await w2.close();

    await banner(page).getByRole('button', { name: 'Dismiss' }).click();
    await eventually(() => banner(page).count()).toBe(0);
    expect((await getJson(env.kotak, '/api/chaos/refusals?mailbox=w1')).body.total).toBe(0);
    // Still there for w2.
    expect((await getJson(env.kotak, '/api/chaos/refusals?mailbox=w2')).body.total).toBe(1);
    expect(alarms.errors).toEqual([]);
    await page.close();
  });
});
