/**
 * Desktop notifications in Chromium: permission asked only on the toggle's click, never at load;
 * while on, a message stored while the page is hidden shows a notification with its sender and
 * subject, and clicking it opens the message; a visible page is not interrupted; the choice is
 * remembered across reloads; a refused permission leaves the toggle off, saying why.
 *
 * An init script records every `new Notification(…)` and `Notification.requestPermission()` (the
 * real ones still run), and lets the test hide the page as switching tabs would.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { transport } from '../helpers/kotak.js';

const env = kotakInChromium();

// Runs in the page before the app (test code has no DOM types, so it is a string).
const RECORDER = `
  window.notificationsShown = [];
  window.permissionRequests = 0;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.notificationsShown.push({ title, body: options && options.body, instance: this });
    }
    static requestPermission(...args) {
      window.permissionRequests += 1;
      return Real.requestPermission(...args);
    }
  }
  window.Notification = Recorded;
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.setPageHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
`;

interface Shown {
  title: string;
  body: string;
}
const shown = (page: Page) => page.evaluate('window.notificationsShown.map(({ title, body }) => ({ title, body }))') as Promise<Shown[]>;
const permissionRequests = (page: Page) => page.evaluate('window.permissionRequests') as Promise<number>;
const setHidden = (page: Page, hidden: boolean) => page.evaluate(`window.setPageHidden(${hidden})`);
const toggle = (page: Page) => page.getByRole('button', { name: /^Desktop notifications/ });

let context: BrowserContext | undefined;
afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function openInbox(grant: boolean): Promise<Page> {
  context = await env.browser.newContext();
  if (grant) await context.grantPermissions(['notifications'], { origin: env.kotak.url });
  await context.addInitScript(RECORDER);
  const page = await context.newPage();
  await page.goto(env.kotak.url);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  return page;
}

describe('desktop notifications', () => {
  it('asks on the click only, notifies while hidden, opens the message on click, and is remembered', async () => {
    const page = await openInbox(true);
    expect(await toggle(page).getAttribute('aria-pressed')).toBe('false');
    expect(await permissionRequests(page)).toBe(0);

    await toggle(page).click();
    await eventually(() => toggle(page).getAttribute('aria-pressed')).toBe('true');
    expect(await toggle(page).getAttribute('aria-label')).toBe('Desktop notifications: on');

    // Visible: the new row is enough, no notification.
    const mailer = transport(env.kotak);
    await mailer.sendMail({ from: 'Visible Sender <v@example.test>', to: 'dev@example.test', subject: 'Seen in the list', text: 'x' });
    await page.getByRole('listitem').filter({ hasText: 'Seen in the list' }).waitFor();

    await setHidden(page, true);
    await mailer.sendMail({ from: 'Ada Lovelace <ada@example.test>', to: 'dev@example.test', subject: 'Arrived while away', text: 'x' });
    await eventually(() => shown(page)).toEqual([{ title: 'Ada Lovelace', body: 'Arrived while away' }]);

    await setHidden(page, false);
    await page.evaluate("window.notificationsShown[0].instance.dispatchEvent(new Event('click'))");
    await page.getByRole('heading', { name: 'Arrived while away', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toMatch(/\/messages\/[^/]+$/);

    // Remembered: on after a reload, without asking again.
    await page.goto(env.kotak.url);
    await eventually(() => toggle(page).getAttribute('aria-pressed')).toBe('true');
    expect(await permissionRequests(page)).toBe(0);

    // Off again: nothing while hidden.
    await toggle(page).click();
    await eventually(() => toggle(page).getAttribute('aria-pressed')).toBe('false');
    await setHidden(page, true);
    await mailer.sendMail({ from: 'quiet@example.test', to: 'dev@example.test', subject: 'Not announced', text: 'x' });
    await page.getByRole('listitem').filter({ hasText: 'Not announced' }).waitFor();
    expect(await shown(page)).toEqual([]);
  });

  it('counts what arrived while hidden in one notification', async () => {
    const page = await openInbox(true);
    await toggle(page).click();
    await eventually(() => toggle(page).getAttribute('aria-pressed')).toBe('true');
    await setHidden(page, true);
    const mailer = transport(env.kotak);
    await mailer.sendMail({ from: 'one@example.test', to: 'dev@example.test', subject: 'First away', text: 'x' });
    await eventually(() => shown(page).then((list) => list.length)).toBe(1);
    await mailer.sendMail({ from: 'two@example.test', to: 'dev@example.test', subject: 'Second away', text: 'x' });
    await eventually(() => shown(page).then((list) => list.at(-1))).toEqual({ title: '2 new messages', body: 'Latest from two@example.test: Second away' });
  });

  it('stays off when the browser refuses, and says why', async () => {
    const page = await openInbox(false);
    // Remembered as on from an earlier visit, but never asked for at load.
    await page.evaluate("localStorage.setItem('kotak.notifications', 'on')");
    await page.reload();
    await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
    expect(await toggle(page).getAttribute('aria-pressed')).toBe('false');
    expect(await permissionRequests(page)).toBe(0);

    await toggle(page).click();
    await eventually(() => permissionRequests(page)).toBe(1);
    expect(await toggle(page).getAttribute('aria-pressed')).toBe('false');
    await page.getByRole('status').filter({ hasText: /not allowed|blocked/ }).waitFor();
    expect(await page.evaluate("localStorage.getItem('kotak.notifications')")).toBeNull();
  });

  it('keeps the list live where the browser refuses to construct a notification (Chrome on Android)', async () => {
    const page = await openInbox(true);
    await toggle(page).click();
    await eventually(() => toggle(page).getAttribute('aria-pressed')).toBe('true');
    await page.evaluate("window.Notification = class extends window.Notification { constructor() { throw new TypeError('Illegal constructor'); } }");
    await setHidden(page, true);
    const mailer = transport(env.kotak);
    await mailer.sendMail({ from: 'android@example.test', to: 'dev@example.test', subject: 'Still listed', text: 'x' });
    await page.getByRole('listitem').filter({ hasText: 'Still listed' }).waitFor();
    await eventually(() => toggle(page).getAttribute('aria-label')).toBe('Desktop notifications: not available in this browser');
    await mailer.sendMail({ from: 'android@example.test', to: 'dev@example.test', subject: 'Listed again', text: 'x' });
    await page.getByRole('listitem').filter({ hasText: 'Listed again' }).waitFor();
  });
});
