/**
 * The search box filters as you type (issue 18: only Enter searched): once typing pauses, the list
 * shows the matches and the URL carries the query, replaced rather than pushed (Back does not step
 * through keystrokes); a query that cannot be read says why, as with Enter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();

beforeAll(async () => {
  for (const subject of ['Alpha report', 'Beta report']) await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'b@example.test', subject, text: subject });
});

describe('search as you type', () => {
  it('filters once typing pauses, with the query in the URL and no history entry per keystroke', async () => {
    const page = await env.browser.newPage();
    await page.goto(env.kotak.url);
    const rows = page.getByRole('list', { name: 'Messages' }).getByRole('listitem');
    await eventually(() => rows.count()).toBe(2);
    const historyBefore = await page.evaluate('history.length');
    const box = page.getByRole('combobox', { name: 'Search messages' });
    await box.click();
    await page.keyboard.type('alpha', { delay: 30 });
    await eventually(() => rows.allTextContents()).toEqual([expect.stringContaining('Alpha report')]);
    await eventually(() => new URL(page.url()).searchParams.get('q')).toBe('alpha');
    expect(await page.evaluate('history.length')).toBe(historyBefore);
    // The space typed last stays in the box while the URL catches up.
    await page.keyboard.type(' ');
    await page.keyboard.type('subject:"open', { delay: 30 });
    await page.getByRole('alert').filter({ hasText: 'unterminated quote' }).waitFor();
    expect(await box.inputValue()).toBe('alpha subject:"open');
    await page.close();
  });
});
