/**
 * Accessibility in Chromium with axe-core (WCAG 2.0/2.1 A and AA): no serious or critical
 * violation on the empty inbox, the list with messages, an open message on each of its tabs, the
 * shortcuts dialog and the confirmation dialog, at desktop and phone (390 px) widths, light and
 * dark. Then the keyboard: the main paths work with Tab, Enter, Space and arrows only, and every
 * element that takes focus shows a visible focus ring.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { eventually } from '../helpers/browser.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { getJson, transport } from '../helpers/kotak.js';

const env = kotakInChromium();

const THEMES = ['light', 'dark'] as const;
const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

// 1×1 red PNG.
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');

let context: BrowserContext | undefined;
afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function open(path: string, theme: 'light' | 'dark', viewport: { width: number; height: number } = WIDTHS[0]): Promise<Page> {
  context = await env.browser.newContext({ colorScheme: theme, viewport: { width: viewport.width, height: viewport.height } });
  const page = await context.newPage();
  await page.goto(`${env.kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  return page;
}

/** The violations, or [] — asserted as a list so a failure names each rule and element. */
async function expectAccessible(page: Page, where: string): Promise<void> {
  expect({ where, violations: await seriousViolations(page) }).toEqual({ where, violations: [] });
}

/** The two messages the list and message checks use, sent once (the empty inbox is checked first). */
let sent: Promise<void> | null = null;
const sendMessages = (): Promise<void> => (sent ??= sendTwoMessages());

async function sendTwoMessages(): Promise<void> {
  const mailer = transport(env.kotak);
  await mailer.sendMail({
    from: 'Plain Sender <plain@example.test>',
    to: 'dev@example.test',
    subject: 'A plain text message',
    text: 'Hello in plain text. Your code is 482913.\nhttps://example.test/plain',
  });
  await mailer.sendMail({
    from: 'Newsletter <news@example.test>',
    to: 'Dev <dev@example.test>',
    cc: 'team@example.test',
    subject: 'Rich HTML with an attachment',
    text: 'The text part',
    html: '<h1 style="color:#333">Hello</h1><p>Read <a href="https://example.test/a">this</a> and <a href="https://example.test/b">that</a>.</p><img src="cid:pixel@test" alt="pixel">',
    headers: { 'List-Unsubscribe': '<https://example.test/unsubscribe>, <mailto:unsub@example.test>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    attachments: [
      { filename: 'pixel.png', content: PIXEL, contentType: 'image/png', cid: 'pixel@test' },
      { filename: 'report-with-a-long-name-2026.pdf', content: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' },
    ],
  });
  // A tag, so the sidebar lists one (its link's name must hold its visible text: name and count).
  const { body } = await getJson<{ messages: { id: string; subject: string }[] }>(env.kotak, '/api/messages');
  const rich = body.messages.find((m) => m.subject === 'Rich HTML with an attachment')!;
  await getJson(env.kotak, `/api/messages/${rich.id}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: ['invite'] }) });
}

describe('axe-core finds no serious or critical violation', () => {
  it('on the empty inbox (light and dark, desktop and phone)', async () => {
    for (const theme of THEMES) {
      for (const size of WIDTHS) {
        const page = await open('/', theme, size);
        await page.getByRole('heading', { name: 'No messages yet' }).waitFor();
        await page.getByText(`:${env.kotak.smtpPort}`).first().waitFor();
        await expectAccessible(page, `empty inbox, ${theme}, ${size.name}`);
        await context!.close();
        context = undefined;
      }
    }
  });

  it('on the list, the shortcuts dialog and the delete-all confirmation', async () => {
    await sendMessages();
    for (const theme of THEMES) {
      for (const size of WIDTHS) {
        const page = await open('/', theme, size);
        await eventually(() => page.getByRole('list', { name: 'Messages' }).getByRole('listitem').count()).toBe(2);
        if (size.width >= 1024) await page.getByRole('navigation').getByRole('link', { name: /^invite/ }).waitFor();
        await expectAccessible(page, `list, ${theme}, ${size.name}`);
        await page.keyboard.press('?');
        await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
        await expectAccessible(page, `shortcuts dialog, ${theme}, ${size.name}`);
        await page.keyboard.press('Escape');
        await page.getByRole('button', { name: 'Delete all' }).click();
        await page.getByRole('alertdialog').waitFor();
        await expectAccessible(page, `delete-all confirmation, ${theme}, ${size.name}`);
        await page.keyboard.press('Escape');
        await context!.close();
        context = undefined;
      }
    }
  });

  it('on an open message, on every tab', async () => {
    await sendMessages();
    for (const theme of THEMES) {
      for (const size of WIDTHS) {
        const page = await open('/?q=subject:rich', theme, size);
        await page.getByRole('listitem').filter({ hasText: 'Rich HTML with an attachment' }).getByRole('link').click();
        const tabs = page.getByRole('tablist', { name: 'Message parts' }).getByRole('tab');
        await tabs.first().waitFor();
        const names = await tabs.allTextContents();
        expect(names.length).toBeGreaterThanOrEqual(6);
        for (const name of names) {
          await page.getByRole('tab', { name, exact: true }).click();
          await eventually(() => page.getByRole('tab', { name, exact: true }).getAttribute('aria-selected')).toBe('true');
          await page.getByRole('tabpanel').waitFor();
          await eventually(() => page.getByRole('tabpanel').getByText('Loading…').count()).toBe(0);
          await expectAccessible(page, `message, tab ${name}, ${theme}, ${size.name}`);
          if (name === 'Checks') {
            // Verdicts and errors have colours of their own: run the checks that need no network.
            const html = page.getByRole('region', { name: 'HTML compatibility' });
            await html.getByRole('button', { name: 'Run' }).click();
            await html.getByText('Details').click();
            const spam = page.getByRole('region', { name: 'Spam score' });
            await spam.getByRole('button', { name: 'Run' }).click();
            await spam.getByRole('alert').waitFor();
            await html.getByRole('status').waitFor();
            await expectAccessible(page, `message, checks run, ${theme}, ${size.name}`);
          }
        }
        await context!.close();
        context = undefined;
      }
    }
  });
});

interface Focused {
  readonly what: string;
  /** A visible ring: an outline of at least 2 px, or a box-shadow. */
  readonly ring: boolean;
}

// What has the focus, and whether it shows (test code has no DOM types, so the script is a string).
const FOCUSED = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const name = el.getAttribute('aria-label') || (el.textContent || '').trim().slice(0, 40) || el.getAttribute('placeholder') || '';
  return { what: (el.getAttribute('role') || el.tagName.toLowerCase()) + ' ' + name, ring: outline || style.boxShadow !== 'none' };
})()`;

/** Presses Tab until `until` has the focus (at most `max` times); what had the focus on the way. */
async function tabTo(page: Page, until: RegExp, max = 60): Promise<Focused[]> {
  const seen: Focused[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const focused = (await page.evaluate(FOCUSED)) as Focused | null;
    if (!focused) continue;
    seen.push(focused);
    if (until.test(focused.what)) return seen;
  }
  throw new Error(`never reached ${until} by Tab; focused on the way: ${seen.map((f) => f.what).join(' | ')}`);
}

describe('the keyboard alone', () => {
  it('reaches every control of the list with a visible focus ring, selects, opens and returns', async () => {
    await sendMessages();
    for (const theme of THEMES) {
      const page = await open('/', theme);
      await eventually(() => page.getByRole('listitem').count()).toBeGreaterThanOrEqual(2);
      const path = await tabTo(page, /^a .*A plain text message/);
      const names = path.map((f) => f.what);
      for (const control of [/Desktop notifications/, /Keyboard shortcuts/, /^button Theme/, /^(input|combobox) Search messages/, /^input Select all/, /^button Mark all read/, /^button Delete all/]) {
        expect(names.some((name) => control.test(name)), `${control} in ${names.join(' | ')}`).toBe(true);
      }
      expect(path.filter((f) => !f.ring).map((f) => f.what)).toEqual([]);

      // Space ticks a row's checkbox (Shift+Tab goes back to it), Enter on the row opens it.
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Space');
      await eventually(() => page.getByRole('checkbox', { name: 'Select message: A plain text message' }).isChecked()).toBe(true);
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'A plain text message', level: 1 }).waitFor();

      // In the message: Tab to its tabs, arrows move between them, Enter on "← Inbox" goes back.
      const toTabs = await tabTo(page, /^tab /);
      expect(toTabs.filter((f) => !f.ring).map((f) => f.what)).toEqual([]);
      const first = (await page.evaluate(FOCUSED)) as Focused;
      await page.keyboard.press('ArrowRight');
      const second = (await page.evaluate(FOCUSED)) as Focused;
      expect(second.what).not.toBe(first.what);
      expect(second.what).toMatch(/^tab /);
      await eventually(() => page.locator('[role="tab"][aria-selected="true"]').textContent()).toBe(second.what.replace(/^tab /, ''));
      await page.keyboard.press('End');
      await eventually(() => page.locator('[role="tab"][aria-selected="true"]').textContent()).toBe('Checks');
      await page.keyboard.press('Home');
      await eventually(() => page.evaluate(FOCUSED)).toMatchObject({ what: first.what });
      await page.keyboard.press('Shift+Tab');
      await tabTo(page, /Inbox/);
      await page.keyboard.press('Enter');
      await page.getByRole('combobox', { name: 'Search messages' }).waitFor();
      await context!.close();
      context = undefined;
    }
  });

  it('toggles the theme and opens and closes the shortcuts with Space and Enter', async () => {
    const page = await open('/', 'light');
    await tabTo(page, /^button Theme: system/);
    await page.keyboard.press('Space');
    await eventually(() => page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.keyboard.press('Enter');
    await eventually(() => page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    await eventually(() => page.evaluate(FOCUSED)).toMatchObject({ what: 'button Close', ring: true });
    await page.keyboard.press('Enter');
    await eventually(() => dialog.count()).toBe(0);
  });

  it('keeps Tab inside the shortcuts dialog and gives the focus back when it closes', async () => {
    const page = await open('/', 'dark');
    await tabTo(page, /^button Keyboard shortcuts/);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    await eventually(() => page.evaluate(FOCUSED)).toMatchObject({ what: 'button Close' });
    for (const key of ['Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      expect(await page.evaluate('document.querySelector("[role=dialog]").contains(document.activeElement)'), `after ${key}`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await eventually(() => dialog.count()).toBe(0);
    await eventually(() => page.evaluate(FOCUSED)).toMatchObject({ what: 'button Keyboard shortcuts', ring: true });
  });
});
