/**
 * kotak/playwright in a real Playwright run (test/playwright/, two workers, Debian's Chromium):
 * once with a Kotak per worker, once with every worker on one Kotak named by KOTAK_URL. Also
 * checks that the package's export map leads to the built client and fixture.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath } from '../helpers/browser.js';
import { LiveClient, withKotak } from '../helpers/kotak.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_TIMEOUT_MS = 180_000;
/** signup.spec.ts has 2 tests, isolation.spec.ts 2; each test's app sends one mail. */
const TESTS = 4;

interface TestOutcome {
  readonly title: string;
  readonly status: string;
  readonly parallelIndex: number;
}

interface Run {
  readonly code: number | null;
  /** Everything Playwright printed, for the assertion messages. */
  readonly output: string;
  readonly stats: { expected: number; unexpected: number; skipped: number; flaky: number } | null;
  readonly tests: TestOutcome[];
}

interface JsonSuite {
  specs?: { title: string; tests: { status: string; results: { parallelIndex: number }[] }[] }[];
  suites?: JsonSuite[];
}

function outcomes(suites: JsonSuite[] = []): TestOutcome[] {
  return suites.flatMap((suite) => [
    ...(suite.specs ?? []).flatMap((spec) =>
      spec.tests.map((t) => ({ title: spec.title, status: t.status, parallelIndex: t.results[0]?.parallelIndex ?? -1 })),
    ),
    ...outcomes(suite.suites),
  ]);
}

async function runPlaywright(env: Record<string, string>): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-playwright-'));
  const reportFile = join(dir, 'report.json');
  try {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, KOTAK_CHROMIUM: chromiumPath(), PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile, FORCE_COLOR: '0', ...env };
    if (!env.KOTAK_URL) delete childEnv.KOTAK_URL;
    const child = spawn('npx', ['playwright', 'test', '-c', 'test/playwright/playwright.config.ts', '--reporter=list,json'], { cwd: ROOT, env: childEnv });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    let report: { stats?: Run['stats']; suites?: JsonSuite[] } = {};
    try {
      report = JSON.parse(readFileSync(reportFile, 'utf8')) as typeof report;
    } catch {
      // No report: the run failed before tests ran; the output says why.
    }
    return { code, output, stats: report.stats ?? null, tests: outcomes(report.suites) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function expectAllPassed(run: Run): void {
  expect(run.code, run.output).toBe(0);
  expect(run.stats, run.output).toMatchObject({ expected: TESTS, unexpected: 0, skipped: 0, flaky: 0 });
  expect(run.tests.map((t) => t.status), run.output).toEqual(Array(TESTS).fill('expected'));
  // The two isolation tests met while both were running, so they ran in the two different workers.
  const isolation = run.tests.filter((t) => t.title.startsWith('isolation:'));
  expect(isolation.map((t) => t.parallelIndex).sort(), run.output).toEqual([0, 1]);
}

describe('kotak/playwright', () => {
  it('passes with a Kotak per worker', { timeout: RUN_TIMEOUT_MS }, async () => {
    expectAllPassed(await runPlaywright({}));
  });

  describe('with KOTAK_URL', () => {
    let shared: Awaited<ReturnType<typeof withKotak>>;
    beforeAll(async () => {
      shared = await withKotak();
    });
    afterAll(async () => {
      await shared?.stop();
    });

    it('passes with every worker on the Kotak it names, and leaves no mail behind', { timeout: RUN_TIMEOUT_MS }, async () => {
      const live = await LiveClient.connect(shared);
      try {
        expectAllPassed(await runPlaywright({ KOTAK_URL: shared.url, KOTAK_SMTP_PORT: String(shared.smtpPort) }));
        // Every test's mail went to the shared Kotak (frames may still be on their way when Playwright exits).
        const storedCount = () => live.frames.filter((f) => f.type === 'message:stored').length;
        await live.next('message:stored', () => storedCount() >= TESTS);
        expect(storedCount()).toBe(TESTS);
      } finally {
        live.close();
      }
      const left = await fetch(`${shared.url}/api/messages`).then((r) => r.json() as Promise<{ total: number }>);
      expect(left.total).toBe(0);
    });
  });

  it('exports the built client and fixture under kotak/client and kotak/playwright', async () => {
    const resolve = createRequire(import.meta.url).resolve;
    const clientPath = resolve('kotak/client');
    const fixturePath = resolve('kotak/playwright');
    expect(clientPath).toBe(join(ROOT, 'dist/client/index.js'));
    expect(fixturePath).toBe(join(ROOT, 'dist/playwright/index.js'));
    // A specifier in a variable: resolved at run time by Node, as a user's import would be.
    const client = (await import(pathToFileURL(clientPath).href)) as Record<string, unknown>;
    expect(Object.keys(client).sort()).toEqual(['KotakApiError', 'KotakClient', 'KotakError', 'KotakTimeoutError']);
    const fixture = (await import(pathToFileURL(fixturePath).href)) as { test: { extend: unknown }; expect: unknown; createMailbox: unknown };
    expect(typeof fixture.test.extend).toBe('function');
    expect(typeof fixture.expect).toBe('function');
    expect(typeof fixture.createMailbox).toBe('function');
  });
});
