/**
 * Opening messages logs nothing in the browser console: no CSP violation, no error. Every message
 * of the test corpus (test/fixtures/corpus, real mail from public test suites) is opened in
 * Chromium, on its default tab and on the Links, HTML source and Attachments tabs (thumbnails
 * loaded: a blocked or failed image would be logged).
 *
 * The cause this guards against: the inbox once parsed a message's HTML in its own document
 * (an inert DOMParser, to list links), and Chromium checks the inline styles of such a document
 * against the app's nonce CSP, logging a violation for every `style` attribute and `<style>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
const corpus = readdirSync(CORPUS).filter((name) => name.endsWith('.eml')).sort();

const env = kotakInChromium();

describe('the browser console while messages are opened', () => {
  it('stays clean for an HTML message with inline styles and a <style> block', async () => {
    await transport(env.kotak).sendMail({
      from: 'styles@example.test',
      to: 'dev@example.test',
      subject: 'Inline styles',
      html: '<html><head><style>p{color:red}</style></head><body><p style="color:blue">Hello</p><table style="width:100%"><tr><td style="padding:4px"><a href="https://example.test/a">a</a></td></tr></table></body></html>',
    });
    const page = await env.browser.newPage();
    const logged: string[] = [];
    page.on('console', (message) => logged.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => logged.push(`pageerror: ${error.message}`));
    await page.goto(env.kotak.url);
    await page.getByRole('listitem').filter({ hasText: 'Inline styles' }).getByRole('link').click();
    await page.frameLocator('iframe[title="Message HTML"]').getByText('Hello').waitFor();
    await page.getByRole('tab', { name: 'Links (1)' }).click();
    await page.getByRole('link', { name: 'https://example.test/a' }).waitFor();
    expect(logged).toEqual([]);
    await page.close();
  });

  it(`stays clean for every message of the corpus (${corpus.length})`, async () => {
    const ids = new Map<string, string>();
    for (const name of corpus) ids.set(name, queuedId(await sendRaw(env.kotak.smtpPort, readFileSync(new URL(name, CORPUS)))));
    const page = await env.browser.newPage();
    const logged: string[] = [];
    let current = '';
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') logged.push(`${current}: ${message.text()}`);
    });
    page.on('pageerror', (error) => logged.push(`${current}: pageerror ${error.message}`));
    for (const [name, id] of ids) {
      current = name;
      await page.goto(`${env.kotak.url}/messages/${id}`);
      await page.getByRole('tablist', { name: 'Message parts' }).waitFor();
      await page.getByRole('tab', { name: /^Links \(\d+\)$/ }).click();
      await page.getByRole('tabpanel').waitFor();
      const source = page.getByRole('tab', { name: 'HTML source' });
      if (await source.count()) {
        await source.click();
        await page.getByRole('list', { name: 'HTML source' }).waitFor();
      }
      await page.getByRole('tab', { name: /^Attachments/ }).click();
      await page.getByRole('tabpanel').waitFor();
      await eventually(() => page.evaluate(`[...document.querySelectorAll('.attachment-thumb img')].every((img) => img.complete)`)).toBe(true);
    }
    expect(logged).toEqual([]);
    await page.close();
  });
});
