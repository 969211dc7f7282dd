/**
 * The Attachments tab at desktop and phone width (issue 18's finding: on a phone the table broke
 * its words, "Typ e", "Si ze", "Do wnl oad"). Each attachment is a card at every width: its short
 * values (size, Download, Checksums) never break inside a word, a long name wraps inside its card,
 * and on a phone nothing scrolls sideways.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../helpers/browser.js';
import { transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();
let id: string;

beforeAll(async () => {
  await transport(env.kotak).sendMail({
    from: 'a@example.test',
    to: 'b@example.test',
    subject: 'Quarterly figures',
    text: 'See attached.',
    attachments: [
      { filename: 'quarterly-figures-for-the-board-meeting-final-v3.xlsx', content: Buffer.alloc(2048, 1), contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
      { filename: 'notes.txt', content: 'notes' },
    ],
  });
  id = ((await (await fetch(`${env.kotak.url}/api/messages`)).json()) as { messages: { id: string }[] }).messages[0]!.id;
});

async function openAttachments(width: number): Promise<Page> {
  const page = await env.browser.newPage({ viewport: { width, height: 800 } });
  await page.goto(`${env.kotak.url}/messages/${id}`);
  await page.getByRole('tab', { name: 'Attachments (2)' }).click();
  await page.getByRole('link', { name: 'Download notes.txt' }).waitFor();
  return page;
}

/**
 * How many lines each visible text of these elements takes (a word broken in two takes two).
 * (Test code has no DOM types, so the page-side script is a string.)
 */
const lineCounts = (page: Page, selector: string): Promise<[string, number][]> =>
  page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})]
    .filter((el) => el.textContent.trim() !== '' && el.getClientRects().length > 0)
    .map((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return [el.textContent.trim(), new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size];
    })`);

/** The short values of every card: each must stay on one line. */
const SHORT_VALUES = '.attachment-size, .attachment-actions a, .attachment-actions button';

/** Whether any card is wider than its box (a long name pushing it sideways). */
const cardsOverflow = (page: Page): Promise<boolean> =>
  page.evaluate(`[...document.querySelectorAll('.attachment-card')].some((card) => card.scrollWidth > card.clientWidth)`) as Promise<boolean>;

describe('the Attachments tab', () => {
  it('shows cards whose short values stay on one line at desktop width', async () => {
    const page = await openAttachments(800);
    expect(await page.getByRole('list', { name: 'Attachments' }).getByRole('listitem').count()).toBe(2);
    const counts = await lineCounts(page, SHORT_VALUES);
    expect(counts.length).toBe(6);
    for (const [text, lines] of counts) expect(lines, text).toBe(1);
    expect(await cardsOverflow(page)).toBe(false);
    await screenshot(page, 'attachments-desktop');
    await page.close();
  });

  it('shows cards on a phone, with no sideways scrolling and words kept whole', async () => {
    const page = await openAttachments(375);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    const counts = await lineCounts(page, SHORT_VALUES);
    expect(counts.length).toBe(6);
    for (const [text, lines] of counts) expect(lines, text).toBe(1);
    expect(await cardsOverflow(page)).toBe(false);
    await screenshot(page, 'attachments-phone');
    await page.close();
  });
});
