/**
 * Web inbox benchmark: with many messages stored, how long Chromium takes to show the first list
 * row after navigating to the inbox, and to show a message after clicking its row.
 *
 *   npm run bench:web                       # build, 100,000 messages, 7 runs each
 *   tsx bench/web.ts --messages 20000 --runs 5
 *
 * Kotak runs in-process (the library) on a fresh SQLite file in os.tmpdir(); messages go in over
 * real SMTP (several pipelining connections) with a realistic ~2 KB text+HTML body. Times are
 * taken inside the page with performance.now(): "first row" from navigation start to the first
 * <li> in the list, "open" from the click to the message's subject heading (the parsed message
 * fetched and rendered) and to the HTML iframe's load event. Medians and extremes are printed;
 * nothing is asserted. Chromium is Debian's (KOTAK_CHROMIUM overrides the path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startKotak } from '../src/index.js';
import { launchChromium } from '../test/helpers/browser.js';
import { seedMessages } from '../test/helpers/seed.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '7' },
  },
});
const MESSAGES = Number(values.messages);
const RUNS = Number(values.runs);

function message(index: number): Buffer {
  const paragraph = `Hello user ${index}, this is a realistic transactional email body with some words to index. `.repeat(6);
  return Buffer.from(
    [
      `From: "Shop ${index % 97}" <shop${index % 97}@example.com>`,
      `To: user${index}@example.test`,
      `Subject: Order ${index} has shipped`,
      'Date: Sat, 28 Nov 2026 10:00:00 +0000',
      `Message-ID: <bench.${index}@example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      paragraph,
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<html><body><h1>Order ${index}</h1><p>${paragraph}</p><a href="https://example.com/o/${index}">Track</a></body></html>`,
      '--b--',
      '',
    ].join('\r\n'),
  );
}

/** The page's window as the init script below leaves it. Page functions are passed as functions, not strings: the inbox's CSP forbids eval. */
type MarkedWindow = { __marks: Partial<Record<'firstRow' | 'click' | 'opened' | 'frameLoaded', number>> };

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${label.padEnd(34)} median ${median.toFixed(0).padStart(5)} ms   min ${sorted[0]!.toFixed(0).padStart(5)} ms   max ${sorted[sorted.length - 1]!.toFixed(0).padStart(5)} ms`;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-bench-web-'));
const kotak = await startKotak({ db: path.join(dir, 'bench.db') });
const browser = await launchChromium();
try {
  const seedStart = performance.now();
  await seedMessages(kotak.smtpPort, MESSAGES, message, 10);
  const seedSeconds = (performance.now() - seedStart) / 1000;
  process.stderr.write(`seeded ${MESSAGES.toLocaleString('en-US')} messages over SMTP in ${seedSeconds.toFixed(1)} s\n`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Records, inside the page, when the first row and the opened message's heading appear. (A string:
  // this file is compiled without DOM types.)
  await context.addInitScript(`
    const marks = (window.__marks = {});
    new MutationObserver(() => {
      if (marks.firstRow === undefined && document.querySelector('.message-list li')) marks.firstRow = performance.now();
      if (marks.click !== undefined && marks.opened === undefined && document.querySelector('#message-subject')) marks.opened = performance.now();
      const frame = document.querySelector('iframe[title="Message HTML"]');
      if (frame && marks.click !== undefined && !frame.hasAttribute('data-timed')) {
        frame.setAttribute('data-timed', '');
        frame.addEventListener('load', () => (marks.frameLoaded ??= performance.now()), { once: true });
      }
    }).observe(document, { childList: true, subtree: true });
    document.addEventListener('click', () => (marks.click ??= performance.now()), true);
  `);

  const firstRow: number[] = [];
  const opened: number[] = [];
  const frameLoaded: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const page = await context.newPage();
    await page.goto(kotak.url);
    await page.waitForFunction(() => (globalThis as unknown as MarkedWindow).__marks.firstRow !== undefined);
    await page.getByRole('listitem').nth(run % 50).getByRole('link').click();
    await page.waitForFunction(() => {
      const marks = (globalThis as unknown as MarkedWindow).__marks;
      return marks.opened !== undefined && marks.frameLoaded !== undefined;
    });
    const marks = await page.evaluate(() => (globalThis as unknown as MarkedWindow).__marks);
    firstRow.push(marks.firstRow!);
    opened.push(marks.opened! - marks.click!);
    frameLoaded.push(marks.frameLoaded! - marks.click!);
    await page.close();
  }
  const stats = (await (await fetch(`${kotak.url}/api/stats`)).json()) as { total: number };
  console.log(`Web inbox, ${stats.total.toLocaleString('en-US')} messages stored, ${RUNS} runs (Chromium ${browser.version()}, ${os.cpus().length} cores)`);
  console.log(summary('navigation → first list row', firstRow));
  console.log(summary('click → message shown (subject)', opened));
  console.log(summary('click → HTML iframe loaded', frameLoaded));
} finally {
  await browser.close();
  await kotak.stop();
  rmSync(dir, { recursive: true, force: true });
}
