/**
 * Empty lists say what to do, in Chromium: the empty inbox names the SMTP address (the port really
 * bound) and offers a swaks and a nodemailer one-liner; each copy button puts its command on the
 * clipboard, and the copied commands, run as they are, deliver mail that the inbox then shows. An
 * empty search offers to clear it; an empty mailbox says so.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { transport } from '../helpers/kotak.js';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;

const env = kotakInChromium();
let context: BrowserContext;

beforeAll(async () => {
  context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.kotak.url });
});
afterAll(async () => {
  await context?.close();
});

async function open(path: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${env.kotak.url}${path}`);
  return page;
}

/** Clicks the copy button of the snippet labelled `label`; what it put on the clipboard. */
async function copied(page: Page, label: string): Promise<string> {
  const snippet = page.getByRole('figure', { name: label });
  await snippet.getByRole('button', { name: `Copy: ${label}` }).click();
  await snippet.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  // Test code has no DOM types, so the page-side script is a string.
  return page.evaluate('navigator.clipboard.readText()') as Promise<string>;
}

describe('the empty states of the web inbox', () => {
  it('shows where to send mail, and the copied one-liners deliver it', async () => {
    const page = await open('/');
    await page.getByRole('heading', { name: 'No messages yet' }).waitFor();
    await page.getByText(`127.0.0.1:${env.kotak.smtpPort}`, { exact: true }).waitFor();

    const swaks = await copied(page, 'Send one with swaks');
    expect(swaks).toContain(`--server 127.0.0.1 --port ${env.kotak.smtpPort}`);
    const nodemailer = await copied(page, 'Send one with nodemailer (in a project that has it installed)');
    expect(nodemailer).toContain(`host: '127.0.0.1', port: ${env.kotak.smtpPort}`);

    // Run exactly what a person would paste into a terminal.
    await run('sh', ['-c', swaks], { cwd: REPO });
    await page.getByRole('listitem').filter({ hasText: 'Hello from swaks' }).waitFor();
    await run('sh', ['-c', nodemailer], { cwd: REPO });
    await page.getByRole('listitem').filter({ hasText: 'Hello from nodemailer' }).waitFor();
    await expect(page.getByRole('heading', { name: 'No messages yet' }).count()).resolves.toBe(0);
    await page.close();
  });

  it('offers to clear a search that matches nothing', async () => {
    await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'dev@example.test', subject: 'Kept message', text: 'x' });
    const page = await open('/?q=nothing-matches-this');
    await page.getByRole('heading', { name: 'No messages match this search' }).waitFor();
    await page.getByText('nothing-matches-this', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Clear search' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Kept message' }).waitFor();
    await eventually(() => new URL(page.url()).search).toBe('');
    await page.close();
  });

  it('says an empty mailbox is empty', async () => {
    const page = await open('/?mailbox=nobody');
    await page.getByRole('heading', { name: 'No messages in nobody' }).waitFor();
    await expect(page.getByRole('button', { name: /^Copy/ }).count()).resolves.toBe(0);
    await page.close();
  });
});
