/**
 * The chosen theme is on the page from its first frame: a dark choice on a light system must not
 * flash light while the app starts. The page records data-theme at the moment the app first puts
 * anything in the document, which is before the browser can paint it.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();

// Runs before the app (test code has no DOM types, so it is a string).
const FIRST_RENDER = `
  localStorage.setItem('kotak.theme', 'dark');
  new MutationObserver((records, observer) => {
    const app = document.getElementById('app');
    if (!app || app.childElementCount === 0) return;
    window.themeAtFirstRender = document.documentElement.dataset.theme ?? 'none';
    observer.disconnect();
  }).observe(document, { childList: true, subtree: true });
`;

describe('the theme', () => {
  it('is applied before the first render, not after it', async () => {
    const context = await env.browser.newContext({ colorScheme: 'light' });
    await context.addInitScript(FIRST_RENDER);
    const page = await context.newPage();
    await page.goto(env.kotak.url);
    await page.getByRole('button', { name: 'Theme: dark' }).waitFor();
    await eventually(() => page.evaluate('window.themeAtFirstRender')).toBe('dark');
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(20, 23, 27)');
    await context.close();
  });
});
