/**
 * The main screens at three widths (1280, 800 and 390 px), light and dark: the empty inbox, the
 * list with messages, and an open message on its HTML tab and its Attachments tab. On each: the
 * page never scrolls sideways (`scrollWidth <= innerWidth`; only the rendered email, inside its
 * iframe, may be wider), axe-core finds no serious or critical violation, and a screenshot is kept
 * in test-artifacts/screens/<screen>-<width>-<theme>.png (an artefact to look at, not compared).
 *
 * Written for any arrangement of the panes: each screen is reached by its URL (the inbox, or
 * messages/ID) and recognised by what it shows, not by where it is.
 */
import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { ARTIFACTS_DIR, eventually } from '../helpers/browser.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { transport } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

const env = kotakInChromium();

const WIDTHS = [1280, 800, 390] as const;
const THEMES = ['light', 'dark'] as const;
const SCREENS_DIR = `${ARTIFACTS_DIR}screens/`;

// 1×1 red PNG.
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
/** A subject with no place to break: the list must cut it, not widen the page. */
const LONG_SUBJECT = `Invoice-${'0123456789'.repeat(12)}`;

let context: BrowserContext | undefined;
afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function open(path: string, width: number, theme: 'light' | 'dark'): Promise<Page> {
  await context?.close();
  context = await env.browser.newContext({ colorScheme: theme, viewport: { width, height: width > 500 ? 900 : 844 } });
  const page = await context.newPage();
  await page.goto(`${env.kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  return page;
}

/** The three checks every screen gets, then its screenshot. */
async function checkScreen(page: Page, screen: string, width: number, theme: string): Promise<void> {
  const where = `${screen} at ${width} px, ${theme}`;
  const widths = (await page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })')) as { scrollWidth: number; innerWidth: number };
  expect(widths.scrollWidth, `${where}: the page scrolls sideways`).toBeLessThanOrEqual(widths.innerWidth);
  expect({ where, violations: await seriousViolations(page) }).toEqual({ where, violations: [] });
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENS_DIR}${screen}-${width}-${theme}.png`, fullPage: true });
}

function everyScreenSize(check: (width: number, theme: 'light' | 'dark') => Promise<void>): () => Promise<void> {
  return async () => {
    for (const width of WIDTHS) for (const theme of THEMES) await check(width, theme);
  };
}

let richId = '';

describe('the main screens at 1280, 800 and 390 px, light and dark', () => {
  it(
    'the empty inbox',
    everyScreenSize(async (width, theme) => {
      const page = await open('/', width, theme);
      await page.getByRole('heading', { name: 'No messages yet' }).waitFor();
      await page.getByText(`:${env.kotak.smtpPort}`).first().waitFor();
      await checkScreen(page, 'empty-inbox', width, theme);
    }),
  );

  it(
    'the list with messages',
    async () => {
      const mailer = transport(env.kotak);
      await mailer.sendMail({ from: 'Plain Sender <plain@example.test>', to: 'dev@example.test', subject: 'Your sign-in code', text: 'Your code is 482913.' });
      await mailer.sendMail({
        from: `"A sender with a very long display name indeed" <${'long-local-part'.repeat(4)}@example.test>`,
        to: 'dev@example.test',
        subject: LONG_SUBJECT,
        text: `${'unbroken'.repeat(40)} text`,
      });
      const info = await mailer.sendMail({
        from: 'Newsletter <news@example.test>',
        to: 'Dev <dev@example.test>',
        subject: 'Rich HTML with attachments',
        text: 'The text part',
        // Wider than a phone: the email may scroll inside its frame, never the page.
        html: '<table style="width:900px"><tr><td><h1>Hello wide world</h1><p>Read <a href="https://example.test/a">this</a>.</p><img src="cid:pixel@test" alt="pixel" width="600" height="20"></td></tr></table>',
        attachments: [
          { filename: 'pixel.png', content: PIXEL, contentType: 'image/png', cid: 'pixel@test' },
          { filename: `a-report-with-a-very-long-file-name-${'x'.repeat(60)}.pdf`, content: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' },
        ],
      });
      richId = queuedId(info.response);
      await everyScreenSize(async (width, theme) => {
        const page = await open('/', width, theme);
        await eventually(() => page.getByRole('listitem').count()).toBe(3);
        await checkScreen(page, 'list', width, theme);
      })();
    },
  );

  it(
    'an open message, on its HTML tab and its Attachments tab',
    everyScreenSize(async (width, theme) => {
      expect(richId).not.toBe('');
      const page = await open(`/messages/${richId}`, width, theme);
      await page.getByRole('tab', { name: 'HTML', exact: true }).waitFor();
      await eventually(() => page.getByRole('tab', { name: 'HTML', exact: true }).getAttribute('aria-selected')).toBe('true');
      await page.frameLocator('iframe[title="Message HTML"]').getByText('Hello wide world').waitFor();
      await checkScreen(page, 'message-html', width, theme);
      await page.getByRole('tab', { name: /^Attachments/ }).click();
      await page.getByRole('tabpanel').getByText('pixel.png').first().waitFor();
      await checkScreen(page, 'message-attachments', width, theme);
    }),
  );
});
