/**
 * kotak/playwright in a real Playwright run (test/playwright/, two workers, Debian's Chromium):
 * once with a Kotak per worker, once with every worker on one Kotak named by KOTAK_URL, and once
 * from an application that installed Kotak from a folder (a symlink) and has its own
 * @playwright/test. Also checks that the package's export map leads to the built client and fixture.
 */
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveClient, withKotak } from '../helpers/kotak.js';
import { runPlaywright, type Run } from '../helpers/playwright-run.js';
import { MAILBOX_ROUTE } from '../../src/playwright/isolation.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_TIMEOUT_MS = 180_000;
/** signup.spec.ts has 2 tests, isolation.spec.ts 2; each test's app sends one mail. */
const TESTS = 4;

function expectAllPassed(run: Run): void {
  expect(run.code, run.output).toBe(0);
  expect(run.stats, run.output).toMatchObject({ expected: TESTS, unexpected: 0, skipped: 0, flaky: 0 });
  expect(run.tests.map((t) => t.status), run.output).toEqual(Array(TESTS).fill('expected'));
  // The two isolation tests met while both were running, so they ran in the two different workers.
  const isolation = run.tests.filter((t) => t.title.startsWith('isolation:'));
  expect(isolation.map((t) => t.parallelIndex).sort(), run.output).toEqual([0, 1]);
}

describe('kotak/playwright', () => {
  it('passes with a Kotak per worker', { timeout: RUN_TIMEOUT_MS }, async () => {
    expectAllPassed(await runPlaywright({}));
  });

  describe('with KOTAK_URL', () => {
    let shared: Awaited<ReturnType<typeof withKotak>>;
    beforeAll(async () => {
      shared = await withKotak({ mailboxRoute: MAILBOX_ROUTE });
    });
    afterAll(async () => {
      await shared?.stop();
    });

    it('passes with every worker on the Kotak it names, and leaves no mail behind', { timeout: RUN_TIMEOUT_MS }, async () => {
      const live = await LiveClient.connect(shared);
      try {
        expectAllPassed(await runPlaywright({ env: { KOTAK_URL: shared.url, KOTAK_SMTP_PORT: String(shared.smtpPort) } }));
        // Every test's mail went to the shared Kotak (frames may still be on their way when Playwright exits).
        const storedCount = () => live.frames.filter((f) => f.type === 'message:stored').length;
        await live.next('message:stored', () => storedCount() >= TESTS);
        expect(storedCount()).toBe(TESTS);
      } finally {
        live.close();
      }
      const left = await fetch(`${shared.url}/api/messages`).then((r) => r.json() as Promise<{ total: number }>);
      expect(left.total).toBe(0);
    });
  });

  describe('installed from a folder', () => {
    // What `npm install ../kotak` makes: node_modules/kotak is a symlink to the checkout, whose own
    // node_modules holds another @playwright/test (a devDependency). The application's Playwright
    // (package directories of its own, as after its own install) must be the only one loaded.
    let app: string;
    beforeAll(() => {
      app = mkdtempSync(join(tmpdir(), 'kotak-folder-install-'));
      const modules = join(app, 'node_modules');
      mkdirSync(join(modules, '@playwright'), { recursive: true });
      symlinkSync(ROOT, join(modules, 'kotak'), 'dir');
      const ours = (name: string) => realpathSync(join(ROOT, 'node_modules', name));
      // Copies, not links: Node resolves links to real paths, and a link would make them Kotak's copy again.
      cpSync(ours('@playwright/test'), join(modules, '@playwright/test'), { recursive: true });
      cpSync(ours('playwright'), join(modules, 'playwright'), { recursive: true });
      // Only the test runner refuses a second copy of itself; the browser driver can be shared.
      symlinkSync(ours('playwright-core'), join(modules, 'playwright-core'), 'dir');
      symlinkSync(ours('nodemailer'), join(modules, 'nodemailer'), 'dir');
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'folder-install-app', private: true, type: 'module' }));
      writeFileSync(
        join(app, 'playwright.config.js'),
        `import { defineConfig } from '@playwright/test';
export default defineConfig({
  testDir: 'tests', workers: 1, retries: 0, outputDir: 'test-results',
  use: { headless: true, launchOptions: { executablePath: process.env.KOTAK_CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] } },
});
`,
      );
      mkdirSync(join(app, 'tests'));
      writeFileSync(
        join(app, 'tests', 'mail.spec.js'),
        `import { test, expect } from 'kotak/playwright';
import nodemailer from 'nodemailer';

test('a mail sent to the mailbox arrives, and the inbox opens', async ({ page, kotak, mailbox }) => {
  const transport = nodemailer.createTransport({ host: kotak.smtpHost, port: kotak.smtpPort, secure: false, ignoreTLS: true });
  await transport.sendMail({ from: 'app@acme.test', to: mailbox.address, subject: 'Welcome', text: 'Hello' });
  expect((await mailbox.waitFor({ subject: 'Welcome' })).to).toEqual([{ name: '', address: mailbox.address }]);
  await page.goto(kotak.url);
  // "(1) Kotak" once the inbox has counted the unread message.
  await expect(page).toHaveTitle(/Kotak$/);
});
`,
      );
    });
    afterAll(() => {
      if (app) rmSync(app, { recursive: true, force: true });
    });

    it("extends the application's @playwright/test, not the checkout's", { timeout: RUN_TIMEOUT_MS }, async () => {
      // The premise: from Kotak's files, @playwright/test resolves to another directory than the application's.
      const fromKotak = realpathSync(createRequire(join(app, 'node_modules/kotak/package.json')).resolve('@playwright/test'));
      const fromApp = realpathSync(createRequire(join(app, 'package.json')).resolve('@playwright/test'));
      expect(fromKotak).not.toBe(fromApp);

      const run = await runPlaywright({ where: { cwd: app, cli: join(app, 'node_modules/@playwright/test/cli.js') } });
      expect(run.output).not.toContain('second time');
      expect(run.code, run.output).toBe(0);
      expect(run.stats, run.output).toMatchObject({ expected: 1, unexpected: 0, skipped: 0, flaky: 0 });
    });
  });

  it('exports the built client, fixture and webhook check under kotak/client, kotak/playwright and kotak/webhooks', async () => {
    const resolve = createRequire(import.meta.url).resolve;
    const clientPath = resolve('kotak/client');
    const fixturePath = resolve('kotak/playwright');
    const webhooksPath = resolve('kotak/webhooks');
    expect(clientPath).toBe(join(ROOT, 'dist/client/index.js'));
    expect(fixturePath).toBe(join(ROOT, 'dist/playwright/index.js'));
    expect(webhooksPath).toBe(join(ROOT, 'dist/webhook-receiver/index.js'));
    // Node-only (node:crypto): kept out of kotak/client, which is bundled for browsers too.
    const webhooks = (await import(pathToFileURL(webhooksPath).href)) as Record<string, unknown>;
    expect(Object.keys(webhooks)).toEqual(['verifyKotakSignature']);
    // A specifier in a variable: resolved at run time by Node, as a user's import would be.
    const client = (await import(pathToFileURL(clientPath).href)) as Record<string, unknown>;
    expect(Object.keys(client).sort()).toEqual(['KotakApiError', 'KotakClient', 'KotakError', 'KotakTimeoutError']);
    const fixture = (await import(pathToFileURL(fixturePath).href)) as { test: { extend: unknown }; expect: unknown; createMailbox: unknown };
    expect(typeof fixture.test.extend).toBe('function');
    expect(typeof fixture.expect).toBe('function');
    expect(typeof fixture.createMailbox).toBe('function');
  });
});
