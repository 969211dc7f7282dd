/**
 * Chromium for the browser tests, through playwright-core and Debian's build (Playwright cannot
 * download its own browsers here). KOTAK_CHROMIUM overrides the path. A missing browser fails the
 * tests loudly rather than skipping them: .ci/run installs it.
 */
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { chromiumPath } from './chromium.js';

export { chromiumPath };

/** `extraArgs`: more Chromium switches, e.g. `--host-resolver-rules=MAP evil.test 127.0.0.1`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run', '--disable-extensions', ...extraArgs],
  });
}

/** Where screenshots go (gitignored); CI keeps them as artifacts. */
export const ARTIFACTS_DIR = new URL('../../test-artifacts/', import.meta.url).pathname;

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS_DIR}${name}.png`, fullPage: true });
}

/** Records what a page did that a hostile message must never make it do. */
export interface PageAlarms {
  readonly dialogs: string[];
  readonly errors: string[];
}

export function watchAlarms(page: Page): PageAlarms {
  const alarms: PageAlarms = { dialogs: [], errors: [] };
  page.on('dialog', (dialog) => {
    alarms.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (err) => alarms.errors.push(err.message));
  return alarms;
}

/** Retries a read of the page until the assertion holds (what Playwright's own web-first assertions do). */
export function eventually<T>(read: () => Promise<T> | T): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout: 15_000, interval: 25 });
}

/**
 * Starts recording every row the inbox's message list gains from now on (a row shown even for a
 * moment and removed again is still recorded, which a later look would miss); call the returned
 * function for the texts of the rows added so far.
 * (Test code has no DOM types, so the page-side script is a string.)
 */
export async function recordAddedRows(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(`
    window.rowsSeen = [];
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) if (node.nodeName === 'LI') window.rowsSeen.push(node.textContent);
    }).observe(document.querySelector('.message-list'), { childList: true });
  `);
  return () => page.evaluate('window.rowsSeen') as Promise<string[]>;
}
