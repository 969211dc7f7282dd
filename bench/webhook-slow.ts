/**
 * Webhook benchmark (issue 22): a slow or dead webhook endpoint never slows SMTP intake.
 *
 *   npx tsx bench/webhook-slow.ts                          # 3000 × 1 KB over 10 connections, three runs
 *   npx tsx bench/webhook-slow.ts --messages 5000 --delay 5000 --json
 *
 * Four runs, each on a fresh Kotak child process (`node bin/kotak.js`, as bench/ingest.ts starts
 * it) with a fresh SQLite database in os.tmpdir():
 *   1. no webhook;
 *   2. `--webhook` to an endpoint (an HTTP server in this process) that answers at once: what the
 *      outbox costs intake (a row written in each message's transaction) with deliveries flowing;
 *   3. the same endpoint answering each request after `--delay` ms (default 5 s), with
 *      `--webhook-timeout` above it, so every request succeeds slowly;
 *   4. `--webhook` to a dead endpoint: a loopback port nothing listens on (connection refused).
 * Runs 3 and 4 against run 2 show what a slow or dead endpoint costs intake.
 * Each sends an uncounted warm-up, then N messages over the connections (MAIL, RCPT and DATA
 * pipelined: bench/smtp-connection.ts), and prints messages/second, the outbox at the end (from
 * GET /metrics' `kotak_webhook_deliveries`), the attempts made and what the endpoint received. It
 * measures and prints; it asserts nothing about time, so it never fails on a slow machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseSamples } from '../test/helpers/metrics.js';
import { buildTemplate, recipients, SIZES, type Template } from './messages.js';
import { SmtpConnection } from './smtp-connection.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KOTAK_BIN = path.join(ROOT, 'bin', 'kotak.js');

interface Options {
  readonly messages: number;
  readonly warmup: number;
  readonly conns: number;
  readonly size: string;
  readonly delayMs: number;
  /** The four runs are repeated this many times, in turn (a shared machine's noise shows as their spread). */
  readonly rounds: number;
  readonly json: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      messages: { type: 'string', default: '3000' },
      warmup: { type: 'string' },
      conns: { type: 'string', default: '10' },
      size: { type: 'string', default: '1k' },
      delay: { type: 'string', default: '5000' },
      rounds: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: tsx bench/webhook-slow.ts [--messages N] [--warmup N] [--conns N] [--size 1k] [--delay MS] [--rounds N] [--json]\n' +
        '  --messages N  messages timed per run (default 3000)\n' +
        '  --warmup N    uncounted messages sent first (default 10% of N)\n' +
        '  --conns N     SMTP connections (default 10)\n' +
        `  --size S      message size: ${Object.keys(SIZES).join(', ')} (default 1k)\n` +
        '  --delay MS    how long the slow endpoint takes to answer each request (default 5000)\n' +
        '  --rounds N    repeat the four runs N times, in turn (default 1)\n' +
        '  --json        results as JSON on stdout (the lines move to stderr)\n',
    );
    process.exit(0);
  }
  const count = (flag: string, s: string, min: number): number => {
    if (!/^\d+$/.test(s) || Number(s) < min) throw new Error(`--${flag}: "${s}" is not a whole number ≥ ${min}`);
    return Number(s);
  };
  if (!SIZES[values.size]) throw new Error(`--size: unknown size "${values.size}" (known: ${Object.keys(SIZES).join(', ')})`);
  const messages = count('messages', values.messages, 1);
  return {
    messages,
    warmup: values.warmup === undefined ? Math.max(Math.round(messages / 10), 1) : count('warmup', values.warmup, 0),
    conns: count('conns', values.conns, 1),
    size: values.size,
    delayMs: count('delay', values.delay, 0),
    rounds: count('rounds', values.rounds, 1),
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------
// The endpoints

interface SlowEndpoint {
  readonly url: string;
  /** Requests received so far, and answered. */
  readonly received: () => number;
  readonly answered: () => number;
  close(): Promise<void>;
}

/** An HTTP server that answers 200 to each request `delayMs` after it arrived. */
async function startSlowEndpoint(delayMs: number): Promise<SlowEndpoint> {
  let received = 0;
  let answered = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((request, response) => {
    received++;
    request.resume();
    const timer = setTimeout(() => {
      timers.delete(timer);
      answered++;
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    }, delayMs);
    timers.add(timer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received: () => received,
    answered: () => answered,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening on it: bound for a moment to be given a free one, then closed. */
async function deadEndpointUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

// ---------------------------------------------------------------------------------------------
// The Kotak child process

interface Kotak {
  readonly child: ChildProcess;
  readonly smtpPort: number;
  readonly httpPort: number;
  readonly dir: string;
}

async function startKotak(extraArgs: readonly string[]): Promise<Kotak> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-bench-webhook-'));
  // KOTAK_* variables in the caller's environment would silently change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KOTAK_')));
  const args = [KOTAK_BIN, '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', path.join(dir, 'bench.db'), '--log-level', 'info', ...extraArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  try {
    const ports = await new Promise<{ smtpPort: number; httpPort: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Kotak did not report "kotak listening" within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`Kotak exited (code ${code}) before listening: ${stderr.trim()}`)));
      child.once('error', reject);
      // Keep reading stdout for the whole run: a full pipe would block the server's logging.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let entry: { msg?: string; smtpPort?: number; httpPort?: number };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        if (entry.msg === 'kotak listening' && typeof entry.smtpPort === 'number' && typeof entry.httpPort === 'number') {
          clearTimeout(timer);
          resolve({ smtpPort: entry.smtpPort, httpPort: entry.httpPort });
        }
      });
    });
    return { child, dir, ...ports };
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function stopKotak(kotak: Kotak): Promise<void> {
  const { child } = kotak;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000); // a hung shutdown still ends
    await exited;
    clearTimeout(timer);
  }
  rmSync(kotak.dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// A run

const ENVELOPE = `MAIL FROM:<bench@kotak.test>\r\nRCPT TO:<${recipients(1)[0]}>\r\nDATA\r\n`;

/** Sends `count` messages numbered from `first` over `conns`, which share one counter. */
async function sendMany(conns: readonly SmtpConnection[], template: Template, first: number, count: number): Promise<{ accepted: number; failures: number }> {
  let next = 0;
  let accepted = 0;
  let failures = 0;
  await Promise.all(
    conns.map(async (conn) => {
      while (next < count) {
        const i = next++;
        try {
          if ((await conn.send(ENVELOPE, template.head(first + i), template.body)).ok) accepted++;
          else failures++;
        } catch {
          failures++;
          return;
        }
      }
    }),
  );
  return { accepted, failures: failures + count - Math.min(next, count) };
}

interface Result {
  readonly run: string;
  readonly messages: number;
  readonly accepted: number;
  readonly failures: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** Messages stored (GET /api/stats), warm-up included. */
  readonly stored: number;
  /** The outbox at the end of the run, by status (empty without a webhook). */
  readonly outbox: Readonly<Record<string, number>>;
  /** Attempts the dispatcher made, by outcome. */
  readonly attempts: Readonly<Record<string, number>>;
  /** Requests the slow endpoint received by the end of the run (null: no such endpoint). */
  readonly endpointReceived: number | null;
}

async function labelled(httpPort: number, metric: string, label: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const found: Record<string, number> = {};
  const pattern = new RegExp(`^${metric}\\{${label}="([^"]+)"\\}$`);
  for (const [series, value] of parseSamples(text)) {
    const match = pattern.exec(series);
    if (match) found[match[1]!] = value;
  }
  return found;
}

async function runOnce(name: string, webhookArgs: readonly string[], options: Options, endpoint: SlowEndpoint | null): Promise<Result> {
  const template = buildTemplate(SIZES[options.size]!);
  const kotak = await startKotak(webhookArgs);
  try {
    const conns = await Promise.all(Array.from({ length: options.conns }, () => SmtpConnection.open(kotak.smtpPort)));
    const warm = await sendMany(conns, template, 0, options.warmup);
    const t0 = performance.now();
    const run = await sendMany(conns, template, options.warmup, options.messages);
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(conns.map((c) => c.quit()));
    const stats = (await (await fetch(`http://127.0.0.1:${kotak.httpPort}/api/stats`)).json()) as { total: number };
    const outbox = await labelled(kotak.httpPort, 'kotak_webhook_deliveries', 'status');
    const attempts = await labelled(kotak.httpPort, 'kotak_webhook_attempts_total', 'outcome');
    return {
      run: name,
      messages: options.messages,
      accepted: run.accepted,
      failures: run.failures + warm.failures,
      seconds,
      messagesPerSecond: options.messages / seconds,
      stored: stats.total,
      outbox,
      attempts,
      endpointReceived: endpoint ? endpoint.received() : null,
    };
  } finally {
    await stopKotak(kotak);
  }
}

function describe(result: Result): string {
  const outbox = Object.keys(result.outbox).length ? Object.entries(result.outbox).map(([s, n]) => `${s} ${n}`).join(', ') : 'none (no webhook)';
  const attempts = Object.keys(result.attempts).length ? Object.entries(result.attempts).map(([s, n]) => `${s} ${n}`).join(', ') : '—';
  const received = result.endpointReceived === null ? '' : `; the endpoint received ${result.endpointReceived} request(s)`;
  return (
    `${result.run}: ${result.messages} msgs in ${result.seconds.toFixed(2)} s → ${Math.round(result.messagesPerSecond)} msg/s, ` +
    `${result.failures} failures, ${result.stored} stored\n    outbox at the end: ${outbox}; attempts: ${attempts}${received}`
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const say = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  say(`Kotak webhook benchmark: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'CPU'}`);
  say(`${options.messages} × ${SIZES[options.size]!.label} messages (+${options.warmup} warm-up) over ${options.conns} connections; slow endpoint answers after ${options.delayMs} ms`);
  const results: Result[] = [];

  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) say(`round ${round} of ${options.rounds}`);
    results.push(await runOnce('no webhook', [], options, null));
    say(describe(results.at(-1)!));

    // A fresh endpoint per run: what it received is that run's.
    const fast = await startSlowEndpoint(0);
    try {
      results.push(await runOnce('fast endpoint (answers at once)', ['--webhook', fast.url], options, fast));
      say(describe(results.at(-1)!));
    } finally {
      await fast.close();
    }

    const slow = await startSlowEndpoint(options.delayMs);
    try {
      const timeout = `${options.delayMs + 5000}ms`;
      results.push(await runOnce(`slow endpoint (${options.delayMs / 1000} s a request)`, ['--webhook', slow.url, '--webhook-timeout', timeout], options, slow));
      say(describe(results.at(-1)!));
    } finally {
      await slow.close();
    }

    results.push(await runOnce('dead endpoint (connection refused)', ['--webhook', await deadEndpointUrl()], options, null));
    say(describe(results.at(-1)!));
  }

  // The median of each run's rounds, against the median without a webhook.
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const names = [...new Set(results.map((r) => r.run))];
  const medians = new Map(names.map((name) => [name, median(results.filter((r) => r.run === name).map((r) => r.messagesPerSecond))]));
  const base = medians.get('no webhook')!;
  say('');
  say(`run                                  ${options.rounds > 1 ? 'median ' : ''}msg/s   vs no webhook   every round`);
  for (const name of names) {
    const all = results.filter((r) => r.run === name).map((r) => Math.round(r.messagesPerSecond)).join(', ');
    say(`${name.padEnd(36)} ${String(Math.round(medians.get(name)!)).padStart(6)}   ${((medians.get(name)! / base) * 100).toFixed(0).padStart(11)} %   ${all}`);
  }
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
