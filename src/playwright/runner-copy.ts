/**
 * The @playwright/test of the Playwright run this process belongs to. kotak/playwright must extend
 * the runner's own `test`: a second copy registers tests the runner never sees ("No tests found")
 * and refuses to load at all ("Requiring @playwright/test second time"). A plain import resolves
 * from where Kotak's files really are, which for a folder install (`npm install ../kotak`, a
 * symlink) is Kotak's checkout with its own node_modules, not the application's.
 */
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';

type PlaywrightTest = typeof import('@playwright/test');

const require = createRequire(import.meta.url);
/** Every Playwright runner and worker process has run code from this folder before it loads a test file. */
const PLAYWRIGHT_LIB = `${sep}node_modules${sep}playwright${sep}lib${sep}`;

export function runnersPlaywrightTest(): PlaywrightTest {
  // require.cache is keyed by real paths, so this finds the copy already running whatever the layout (hoisted, pnpm, symlinks).
  const running = Object.keys(require.cache).find((path) => path.includes(PLAYWRIGHT_LIB));
  if (running === undefined) return require('@playwright/test') as PlaywrightTest;
  // `@playwright/test` is `module.exports = require('playwright/test')`: the same object.
  const packageDir = running.slice(0, running.indexOf(PLAYWRIGHT_LIB) + PLAYWRIGHT_LIB.length - `lib${sep}`.length);
  return require(join(packageDir, 'test.js')) as PlaywrightTest;
}
