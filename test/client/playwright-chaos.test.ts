/**
 * The kotak/playwright `chaos` fixture in a real Playwright run (chaos.spec.ts) against a shared
 * Kotak: the rules each test added are removed after it, and only those (a rule set at start stays).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, withKotak } from '../helpers/kotak.js';
import { runPlaywright } from '../helpers/playwright-run.js';
import { MAILBOX_ROUTE } from '../../src/playwright/isolation.js';

const RUN_TIMEOUT_MS = 180_000;

describe('kotak/playwright chaos fixture', () => {
  let shared: Awaited<ReturnType<typeof withKotak>>;
  beforeAll(async () => {
    shared = await withKotak({ mailboxRoute: MAILBOX_ROUTE, chaosRule: 'rcpt to=*@preexisting.test reply=550' });
  });
  afterAll(async () => {
    await shared?.stop();
  });

  it('removes the rules a test added after it, and only those', { timeout: RUN_TIMEOUT_MS }, async () => {
    const run = await runPlaywright({ config: 'test/playwright/chaos.config.ts', env: { KOTAK_URL: shared.url, KOTAK_SMTP_PORT: String(shared.smtpPort) } });
    expect(run.code, run.output).toBe(0);
    expect(run.stats, run.output).toMatchObject({ expected: 2, unexpected: 0, skipped: 0, flaky: 0 });
    const { body } = await getJson(shared, '/api/chaos');
    expect(body.rules.map((r: { id: string; match?: { to?: string } }) => [r.id, r.match?.to])).toEqual([['c1', '*@preexisting.test']]);
  });
});
