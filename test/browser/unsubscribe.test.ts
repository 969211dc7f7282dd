/**
 * `List-Unsubscribe` in the message view (issue 18): its targets shown as a mail client offers
 * them, http(s) and mailto as links, anything else as text, and one-click (RFC 8058) said.
 */
import { describe, expect, it } from 'vitest';
import { transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();

describe('List-Unsubscribe in the message view', () => {
  it('lists the targets, links only http(s) and mailto, and says one-click', async () => {
    await transport(env.kotak).sendMail({
      from: 'news@example.test',
      to: 'reader@example.test',
      subject: 'Newsletter',
      text: 'Hello',
      headers: {
        'List-Unsubscribe': '<https://example.test/unsub?u=1>, <mailto:unsub@example.test?subject=stop>, <javascript:alert(1)>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
    await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'Personal', text: 'Hi' });
    const page = await env.browser.newPage();
    await page.goto(env.kotak.url);
    await page.getByRole('listitem').filter({ hasText: 'Newsletter' }).getByRole('link').click();
    await page.getByRole('heading', { name: 'Newsletter' }).waitFor();
    const field = page.locator('dt:text-is("Unsubscribe") + dd');
    await field.getByRole('link', { name: 'https://example.test/unsub?u=1' }).waitFor();
    await field.getByRole('link', { name: 'mailto:unsub@example.test?subject=stop' }).waitFor();
    expect(await field.getByRole('link', { name: 'javascript:alert(1)' }).count()).toBe(0);
    expect(await field.textContent()).toContain('one-click (RFC 8058)');

    await page.goBack();
    await page.getByRole('listitem').filter({ hasText: 'Personal' }).getByRole('link').click();
    await page.getByRole('heading', { name: 'Personal' }).waitFor();
    expect(await page.locator('dt:text-is("Unsubscribe")').count()).toBe(0);
    await page.close();
  });
});
