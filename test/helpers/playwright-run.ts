/**
 * Runs a Playwright suite in a child process (real Chromium through KOTAK_CHROMIUM, Debian's) and
 * reads its JSON report: for the vitest files that check kotak/playwright in a real run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath } from './browser.js';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface TestOutcome {
  readonly title: string;
  readonly status: string;
  readonly parallelIndex: number;
}

export interface Run {
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

export interface PlaywrightRunOptions {
  /** This repository's suite of this config (a path from the repository root)… */
  readonly config?: string;
  /** …or an application's own suite: its folder and its `playwright` command. */
  readonly where?: { readonly cwd: string; readonly cli: string };
  readonly env?: Record<string, string>;
  /** More command-line arguments, e.g. --repeat-each. */
  readonly args?: readonly string[];
}

export async function runPlaywright({ config = 'test/playwright/playwright.config.ts', where, env = {}, args = [] }: PlaywrightRunOptions): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-playwright-'));
  const reportFile = join(dir, 'report.json');
  try {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, KOTAK_CHROMIUM: chromiumPath(), PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile, FORCE_COLOR: '0', ...env };
    if (!env.KOTAK_URL) delete childEnv.KOTAK_URL;
    const child = where
      ? spawn(process.execPath, [where.cli, 'test', '--reporter=list,json', ...args], { cwd: where.cwd, env: childEnv })
      : spawn('npx', ['playwright', 'test', '-c', config, '--reporter=list,json', ...args], { cwd: ROOT, env: childEnv });
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

