/**
 * kotak/client in a browser: bundled for the browser by esbuild (no Node built-ins may sneak in),
 * loaded into a Chromium page on Kotak's own origin, and used there to wait for a message.
 */
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let kotak: RunningKotak;
let browser: Browser;

beforeAll(async () => {
  [kotak, browser] = await Promise.all([withKotak(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
});

describe('kotak/client in the browser', () => {
  it('bundles for the browser and waits for a message from a page', async () => {
    const bundle = await build({
      entryPoints: [new URL('../../src/client/index.ts', import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'KotakClientModule',
      platform: 'browser',
      target: 'chrome110',
    });
    const code = bundle.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(["']node:/);

    // bypassCSP: the inbox's CSP rightly refuses an injected script; this test plays a page of the user's own.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(kotak.url);
    await page.addScriptTag({ content: code });
    const waiting = page.evaluate(async () => {
      const { KotakClient } = (globalThis as unknown as { KotakClientModule: typeof import('../../src/client/index.js') }).KotakClientModule;
      const client = new KotakClient((globalThis as unknown as { location: { origin: string } }).location.origin);
      const message = await client.waitFor({ to: 'browser@client.test', subject: /^Hello from/, timeout: 10_000 });
      return { subject: message.subject, links: message.links, codes: message.codes };
    });
    await transport(kotak).sendMail({
      from: 'app@example.com',
      to: 'browser@client.test',
      subject: 'Hello from the app',
      text: 'Your code is 551203. Confirm: https://app.test/confirm?t=1',
    });
    expect(await waiting).toEqual({ subject: 'Hello from the app', links: [{ url: 'https://app.test/confirm?t=1', text: '' }], codes: ['551203'] });
    await context.close();
  });
});
