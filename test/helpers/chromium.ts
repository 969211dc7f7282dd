/**
 * Where Debian's Chromium is (Playwright cannot download its own browsers here). KOTAK_CHROMIUM
 * overrides it. No test-runner imports: both vitest helpers and the Playwright config use it.
 */
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const configured = process.env.KOTAK_CHROMIUM;
  if (configured) return configured;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error(`No Chromium found (tried ${CANDIDATES.join(', ')}). Install it (apt-get install chromium) or set KOTAK_CHROMIUM.`);
  return found;
}
