/**
 * The setup most browser tests share: one Kotak (in-process, free ports) and one Chromium for the
 * test file, started before its tests and stopped after them. Read `kotak` and `browser` inside
 * tests and hooks (they exist once the file's first hook has run).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { KotakOptions } from '../../src/index.js';
import { launchChromium } from './browser.js';
import { withKotak, type RunningKotak } from './kotak.js';

export interface KotakInChromium {
  readonly kotak: RunningKotak;
  readonly browser: Browser;
}

export function kotakInChromium(options: KotakOptions = {}): KotakInChromium {
  let kotak: RunningKotak | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    [kotak, browser] = await Promise.all([withKotak(options), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await kotak?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started yet: read it inside a test or hook`);
    return value;
  };
  return {
    get kotak() {
      return started(kotak, 'Kotak');
    },
    get browser() {
      return started(browser, 'Chromium');
    },
  };
}
