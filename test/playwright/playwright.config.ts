/**
 * Runs the kotak/playwright specs in real Chromium (Debian's: Playwright cannot download its own
 * here), two workers at a time so that isolation is tested for real.
 * test/client/playwright-fixture.test.ts runs it; by hand: npx playwright test -c test/playwright/playwright.config.ts
 */
import { defineConfig } from '@playwright/test';
import { chromiumPath } from '../helpers/chromium.js';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  // Their own configs and runners: mailboxes.config.ts (4 workers, no browser), chaos.config.ts (one worker, in order).
  testIgnore: ['mailboxes.spec.ts', 'chaos.spec.ts'],
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: true,
  globalSetup: './global-setup.ts',
  outputDir: '../../test-artifacts/playwright',
  reporter: 'list',
  use: {
    headless: true,
    launchOptions: {
      executablePath: chromiumPath(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
    },
  },
});
