/**
 * kotak/playwright's zero-configuration isolation in a real Playwright run: mailboxes.spec.ts
 * (40 tests sending to their worker's mailbox, 2 to their own test's) over 4 workers, repeated 10
 * times against one Kotak shared through KOTAK_URL (started with MAILBOX_ROUTE, as the README
 * says), where a missing or leaking mailbox would show as a second message; and once with a Kotak
 * per worker, which must configure the route by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveClient, getJson, withKotak } from '../helpers/kotak.js';
import { runPlaywright, type Run } from '../helpers/playwright-run.js';
import { MAILBOX_ROUTE } from '../../src/playwright/isolation.js';

const CONFIG = 'test/playwright/mailboxes.config.ts';
const TESTS_PER_REPEAT = 42;
const REPEATS = 10;
const RUN_TIMEOUT_MS = 240_000;

function expectAllPassed(run: Run, count: number): void {
  expect(run.code, run.output).toBe(0);
  expect(run.stats, run.output).toMatchObject({ expected: count, unexpected: 0, skipped: 0, flaky: 0 });
  // All four workers took part, so mailboxes were used side by side.
  expect(new Set(run.tests.map((t) => t.parallelIndex)), run.output).toEqual(new Set([0, 1, 2, 3]));
}

describe('kotak/playwright mailbox isolation', () => {
  describe('with KOTAK_URL', () => {
    let shared: Awaited<ReturnType<typeof withKotak>>;
    beforeAll(async () => {
      shared = await withKotak({ mailboxRoute: MAILBOX_ROUTE });
    });
    afterAll(async () => {
      await shared?.stop();
    });

    it(`passes ${REPEATS} times over with 4 workers on one Kotak, each test seeing exactly its own mail`, { timeout: RUN_TIMEOUT_MS }, async () => {
      const live = await LiveClient.connect(shared);
      try {
        const run = await runPlaywright({
          config: CONFIG,
          env: { KOTAK_URL: shared.url, KOTAK_SMTP_PORT: String(shared.smtpPort) },
          args: ['--repeat-each', String(REPEATS)],
        });
        expectAllPassed(run, TESTS_PER_REPEAT * REPEATS);
        const storedCount = () => live.frames.filter((f) => f.type === 'message:stored').length;
        await live.next('message:stored', () => storedCount() >= TESTS_PER_REPEAT * REPEATS);
        expect(storedCount()).toBe(TESTS_PER_REPEAT * REPEATS);
      } finally {
        live.close();
      }
      // Every test cleared its mailbox after itself.
      const left = await getJson<{ total: number }>(shared, '/api/messages');
      expect(left.body.total).toBe(0);
    });
  });

  it('passes with a Kotak per worker, which routes the mailboxes by itself', { timeout: RUN_TIMEOUT_MS }, async () => {
    expectAllPassed(await runPlaywright({ config: CONFIG }), TESTS_PER_REPEAT);
  });
});
