/**
 * Web inbox benchmark: with many messages stored, what a user of Chromium waits for:
 *   - navigation → the first list row rendered;
 *   - a click on a row → the message shown (subject heading) and its HTML iframe loaded;
 *   - typing a search → the results shown, from the last key;
 *   - scrolling the list through 10,000 rows: the longest task and how many tasks took over 50 ms
 *     (PerformanceObserver 'longtask'), and how many frames showed a row still loading.
 *
 *   npm run bench:web                       # build, 100,000 messages, 7 runs each
 *   tsx bench/web.ts --messages 20000 --runs 5 --scroll-px 1000
 *   tsx bench/web.ts --messages 20000 --runs 3 --trace-scroll     (also: what each long task was made of)
 *   tsx bench/web.ts --scroll-after-ms 1000   (scroll a page that has been up a second, not the next frame)
 *
 * Kotak runs in-process (the library) on a fresh SQLite file in os.tmpdir(); messages go in over
 * real SMTP (several pipelining connections) with a realistic ~2 KB text+HTML body. Times are
 * taken inside the page with performance.now(): "first row" from navigation start to the frame
 * after the first row entered the list, "open" from the click to the message's subject heading
 * and to the HTML iframe's load event, "search" from the last key typed (keys 80 ms apart, as a
 * quick typist) to the frame after the list shows the matching rows and count. Medians and
 * extremes are printed; nothing is asserted. Chromium is Debian's (KOTAK_CHROMIUM overrides the path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startKotak } from '../src/index.js';
import { launchChromium } from '../test/helpers/browser.js';
import { seedMessages } from '../test/helpers/seed.js';
import { describeLongTasks, longTasks, type LongTask } from './long-tasks.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '7' },
    'scroll-px': { type: 'string', default: '1000' },
    /** Start each scrolling run this long after the first row (0: the next frame, a cold page). */
    'scroll-after-ms': { type: 'string', default: '0' },
    /** Trace the scrolling runs in Chromium and print what each task over 50 ms was made of. */
    'trace-scroll': { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);
const RUNS = Number(values.runs);
/** How far the list scrolls each frame in the scrolling run. */
const SCROLL_PX = Number(values['scroll-px']);

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
type MarkedWindow = { __marks: Partial<Record<'firstRow' | 'click' | 'opened' | 'frameLoaded' | 'lastKey', number>> };

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
      if (marks.firstRow === undefined && document.querySelector('.message-list li[data-id]')) {
        marks.firstRow = -1;
        requestAnimationFrame(() => (marks.firstRow = performance.now()));
      }
      if (marks.click !== undefined && marks.opened === undefined && document.querySelector('#message-subject')) marks.opened = performance.now();
      const frame = document.querySelector('iframe[title="Message HTML"]');
      if (frame && marks.click !== undefined && !frame.hasAttribute('data-timed')) {
        frame.setAttribute('data-timed', '');
        frame.addEventListener('load', () => (marks.frameLoaded ??= performance.now()), { once: true });
      }
    }).observe(document, { childList: true, subtree: true });
    document.addEventListener('click', () => (marks.click ??= performance.now()), true);
    document.addEventListener('keydown', () => (marks.lastKey = performance.now()), true);
  `);

  const firstRow: number[] = [];
  const opened: number[] = [];
  const frameLoaded: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const page = await context.newPage();
    await page.goto(kotak.url);
    await page.waitForFunction(() => ((globalThis as unknown as MarkedWindow).__marks.firstRow ?? -1) > 0);
    await page.getByRole('listitem').nth(run % 10).getByRole('link').click();
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

  // Typing a search: from the last key to the frame after the list shows the result.
  const searches: { label: string; typed: (run: number) => string; shown: (run: number) => string }[] = [
    { label: 'search a word (1 match)', typed: (run) => String(MESSAGES - 1 - run * 7), shown: (run) => `Order ${MESSAGES - 1 - run * 7} has shipped` },
    // Every message matches: the count is bounded (GET /api/messages counts 1,000 past the page), so
    // the list says "At least N messages match" once the search has answered, whatever N.
    { label: 'search subject:shipped (all match)', typed: () => 'subject:shipped', shown: () => 'messages match' },
  ];
  const searchTimes = new Map<string, number[]>(searches.map((s) => [s.label, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const search of searches) {
      const page = await context.newPage();
      await page.goto(kotak.url);
      await page.waitForFunction(() => ((globalThis as unknown as MarkedWindow).__marks.firstRow ?? -1) > 0);
      await page.getByRole('combobox', { name: 'Search messages' }).click();
      await page.keyboard.type(search.typed(run), { delay: 80 });
      const expected = search.shown(run);
      // Page code as strings: tsx would wrap named functions in a helper the page does not have.
      const shownAt = (await page.evaluate(`new Promise((resolve) => {
        const text = ${JSON.stringify(expected)};
        const check = () => (document.querySelector('.message-list li[data-id]')?.textContent ?? '').includes(text) || (document.querySelector('.count')?.textContent ?? '').endsWith(text);
        const poll = () => (check() ? requestAnimationFrame(() => resolve(performance.now())) : requestAnimationFrame(poll));
        poll();
      })`)) as number;
      const marks = await page.evaluate(() => (globalThis as unknown as MarkedWindow).__marks);
      searchTimes.get(search.label)!.push(shownAt - marks.lastKey!);
      await page.close();
    }
  }

  // Scrolling through 10,000 rows, --scroll-px a frame (1,000 by default: a hard fling, 60,000 px a second at 60 frames a second).
  const SCROLL_ROWS = Math.min(10_000, MESSAGES - 50);
  const scrolls: { ms: number; longest: number; over50: number; tasks: number; blankFrames: number; frames: number }[] = [];
  const tracedTasks: LongTask[][] = [];
  for (let run = 0; run < RUNS; run++) {
    const page = await context.newPage();
    await page.goto(kotak.url);
    await page.waitForFunction(() => ((globalThis as unknown as MarkedWindow).__marks.firstRow ?? -1) > 0);
    await new Promise((resolve) => setTimeout(resolve, Number(values['scroll-after-ms'])));
    if (values['trace-scroll']) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink'] });
    scrolls.push(
      (await page.evaluate(`new Promise((resolve) => {
        const scroller = document.querySelector('.message-scroller');
        const rowHeight = document.querySelector('.message-list li[data-id]').getBoundingClientRect().height;
        const target = ${SCROLL_ROWS} * rowHeight;
        const durations = [];
        const observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) durations.push(entry.duration); });
        observer.observe({ type: 'longtask' });
        let blankFrames = 0;
        let frames = 0;
        const start = performance.now();
        const step = () => {
          frames += 1;
          if (document.querySelectorAll('.message-list li.placeholder').length > 0) blankFrames += 1;
          if (scroller.scrollTop + 1 >= target) {
            const ms = performance.now() - start;
            // Long tasks are reported after they end: give the last frame's a frame to arrive.
            requestAnimationFrame(() => requestAnimationFrame(() => {
              observer.disconnect();
              resolve({ ms, longest: Math.max(0, ...durations), over50: durations.filter((d) => d > 50).length, tasks: durations.length, blankFrames, frames });
            }));
            return;
          }
          scroller.scrollTop = Math.min(target, scroller.scrollTop + ${SCROLL_PX});
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      })`)) as { ms: number; longest: number; over50: number; tasks: number; blankFrames: number; frames: number },
    );
    if (values['trace-scroll']) tracedTasks.push(longTasks(await browser.stopTracing()));
    await page.close();
  }

  const stats = (await (await fetch(`${kotak.url}/api/stats`)).json()) as { total: number };
  console.log(`Web inbox, ${stats.total.toLocaleString('en-US')} messages stored, ${RUNS} runs (Chromium ${browser.version()}, ${os.cpus().length} cores)`);
  console.log(summary('navigation → first list row', firstRow));
  console.log(summary('click → message shown (subject)', opened));
  console.log(summary('click → HTML iframe loaded', frameLoaded));
  for (const [label, times] of searchTimes) console.log(summary(`last key → ${label}`, times));
  for (const scroll of scrolls) {
    console.log(
      `scroll ${SCROLL_ROWS.toLocaleString('en-US')} rows, ${SCROLL_PX} px a frame, from ${values['scroll-after-ms']} ms after the first row, in ${scroll.ms.toFixed(0)} ms (${scroll.frames} frames): longest task ${scroll.longest.toFixed(0)} ms, ` +
        `${scroll.over50} tasks over 50 ms (${scroll.tasks} long tasks in all), ${scroll.blankFrames} frames with a row still loading`,
    );
  }
  tracedTasks.forEach((tasks, run) => {
    console.log(`scroll run ${run + 1}, traced (tracing slows the page): ${tasks.length} tasks over 50 ms`);
    for (const line of describeLongTasks(tasks)) console.log(line);
  });
} finally {
  await browser.close();
  await kotak.stop();
  rmSync(dir, { recursive: true, force: true });
}
