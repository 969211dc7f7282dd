/**
 * mailboxes.spec.ts only, 4 workers: test/client/playwright-mailboxes.test.ts runs it (with
 * --repeat-each); by hand: npx playwright test -c test/playwright/mailboxes.config.ts
 * The spec opens no page, so no browser starts.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: 'mailboxes.spec.ts',
  fullyParallel: true,
  workers: 4,
  retries: 0,
  forbidOnly: true,
  outputDir: '../../test-artifacts/playwright-mailboxes',
  reporter: 'list',
});
