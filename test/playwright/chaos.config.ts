/**
 * chaos.spec.ts only, one worker (its tests run in order): test/client/playwright-chaos.test.ts
 * runs it against a Kotak named by KOTAK_URL. The spec opens no page, so no browser starts.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: 'chaos.spec.ts',
  workers: 1,
  retries: 0,
  forbidOnly: true,
  outputDir: '../../test-artifacts/playwright-chaos',
  reporter: 'list',
});
